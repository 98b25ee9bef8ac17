// The fast paths of malloc, free and malloc_usable_size, inline so that LeakAgentHooks defines the
// libc names with these very bodies, and the part of the core they touch: the calling thread's
// counter block and the next allocator. A jump from the libc name to an out-of-line entry point
// cost 0.4 ns per call on the build machine (scratch A/B, 21 runs pinned: 16.6 -> 15.8 ns per
// pair), a fifth of the tracker's whole cost. Everything rare is out of line in entry.c, called
// last so that it compiles to a jump. malloc's counting half is inline too, although the value
// kept across the call into the next allocator then costs a saved register: 0.2-0.5 ns per pair
// less than jumping to it.
//
// For the hooks and the core only (Swift's module map leaves it out); the core's other internals,
// in lt_internal.h, build on it.
#ifndef CLEAKTRACK_FAST_PATHS_H
#define CLEAKTRACK_FAST_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "CLeakTrack.h"

#define LT_LIKELY(x) __builtin_expect(!!(x), 1)
#define LT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LT_HIDDEN __attribute__((visibility("hidden")))
#define LT_NOINLINE __attribute__((noinline))
#define LT_COLD __attribute__((cold, noinline))
#define LT_ALWAYS_INLINE __attribute__((always_inline)) inline
#define LT_CACHE_LINE 64
#define LT_TLS __attribute__((tls_model("initial-exec")))

// Owner-thread writes that other threads read while folding: relaxed atomics compile to plain
// moves on x86-64 and arm64 but keep the readers' loads free of undefined behaviour.
#define LT_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define LT_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define LT_BUMP(x, v) LT_STORE((x), (x) + (v))

// --- the calling thread's counters (threads.c) ---

/// How far a thread's unpublished net byte count may drift before it folds into the global
/// current (and the global peak). The peak's error is bounded by live threads x this.
#define LT_PUBLISH_BYTES (16 * 1024)

enum lt_thread_flags {
    LT_THREAD_UNREGISTERED = 1u << 0, // the static placeholder every thread starts on
    LT_THREAD_ORPHAN = 1u << 1,       // thread past its TLS destructor, or no slot available
    LT_THREAD_AGENT = 1u << 2,        // the agent's own thread: counted apart, never sampled
    LT_THREAD_SLOW_FREE = 1u << 3,    // free() needs a call for the size or the sample set (see samples.c)
};

/// The site of the thread's previous sample and its stack: a loop allocating at one site finds it
/// again without touching the shared site index.
typedef struct lt_site_cache {
    uint32_t site;
    int32_t frame_count; // 0: empty
    uintptr_t frames[LT_MAX_FRAMES];
} lt_site_cache;

/// A thread's private counters. Written only by its owner, folded by readers.
/// `bytes_until_sample` doubles as the fast path's single test: the placeholder states hold 0
/// there, so a thread's very first allocation takes the slow path and registers it.
typedef struct lt_thread {
    // First line: everything the malloc/free fast path touches.
    int64_t bytes_until_sample;
    uint32_t flags; // non-zero sends free() to the slow path
    // Allocations to go before the next one is placed in the guarded pool (guard_pool.c): its own
    // countdown, not the stack sampler's byte gap. 0 in the placeholders, which never reach it.
    uint32_t allocations_until_guard;
    uint64_t allocation_count;
    uint64_t free_count;
    // Bytes since the last publish, as two sums that only malloc or only free writes: in a
    // malloc/free loop one shared net sum would chain every call to the previous one through memory.
    int64_t pending_allocated_bytes;
    int64_t pending_freed_bytes;
    int64_t pending_peak_bytes; // high-water mark of the net pending bytes since the last publish
    // Second line, written by lt_publish only: the bytes of all earlier publishes.
    uint64_t published_allocated_bytes;
    uint64_t published_freed_bytes;

    // Cold: sampling and bookkeeping.
    lt_site_cache last_site;
    uint64_t random_state;
    uint64_t guard_random_state;
    uintptr_t stack_high; // exclusive top of this thread's stack; 0 when unknown
    struct lt_thread *next_in_registry;
    struct lt_thread *next_free; // while on the free list of exited threads' blocks
    bool in_use;
    uint8_t shard; // where this thread's samples are counted
    uint32_t sampling_pauses;
} lt_thread;

LT_HIDDEN extern __thread lt_thread *lt_self LT_TLS;

// --- the next allocator (forward.c) ---

typedef struct lt_next_allocator {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*usable_size)(void *);
} lt_next_allocator;

LT_HIDDEN extern lt_next_allocator lt_next;
LT_HIDDEN extern bool lt_next_is_glibc;

// glibc keeps a chunk's size in the word before the block (the low bits are flags, 2 = mmapped).
// Reading it inline saves a call and the read of the next chunk's header that
// malloc_usable_size makes; forward.c enables it only after checking it agrees with glibc.
// The usable size is the chunk less its header word, and less one more for a mmapped chunk:
// (header & 2) * 4 is that word's 8 bytes exactly when the flag is set.
static inline size_t lt_glibc_usable_size_from_header(size_t header) {
    return (header & ~(size_t)7) - sizeof(size_t) - (header & 2) * 4;
}
static inline size_t lt_glibc_usable_size(const void *pointer) {
    return lt_glibc_usable_size_from_header(((const size_t *)pointer)[-1]);
}
_Static_assert(sizeof(size_t) == 8, "the inline chunk size assumes a 64-bit glibc");

/// A bit no glibc chunk size has (chunks are multiples of 16), set in the word before a sampled
/// block (LT_SAMPLE_MARKER, lt_internal.h) and before a bootstrap one.
#define LT_GLIBC_SIZE_UNUSED_BIT ((size_t)8)

// --- the guarded pool (guard_pool.c) ---

/// The guarded pool's addresses, guard pages included: [start, start + bytes). Set once when the
/// allocator is resolved; both 0 while the pool is off, so the test below never holds then.
typedef struct lt_guard_range {
    uintptr_t start;
    uintptr_t bytes;
} lt_guard_range;
LT_HIDDEN extern lt_guard_range lt_guard_pool;

/// Whether `pointer` is in the guarded pool: one unsigned range comparison (NULL is not).
static inline bool lt_in_guard_pool(const void *pointer) {
    return (uintptr_t)pointer - LT_LOAD(lt_guard_pool.start) < LT_LOAD(lt_guard_pool.bytes);
}

// --- counting ---

/// Counts an allocation; returns whether the thread's pending bytes are due to be published.
static inline bool lt_count_allocation(lt_thread *self, size_t usable) {
    LT_BUMP(self->allocation_count, 1);
    int64_t allocated = self->pending_allocated_bytes + (int64_t)usable;
    LT_STORE(self->pending_allocated_bytes, allocated);
    int64_t pending = allocated - self->pending_freed_bytes;
    if (pending > self->pending_peak_bytes) {
        LT_STORE(self->pending_peak_bytes, pending);
        return pending > LT_PUBLISH_BYTES;
    }
    return false;
}

/// Counts a free; returns whether the thread's pending bytes are due to be published.
static inline bool lt_count_free(lt_thread *self, size_t usable) {
    LT_BUMP(self->free_count, 1);
    int64_t freed = self->pending_freed_bytes + (int64_t)usable;
    LT_STORE(self->pending_freed_bytes, freed);
    int64_t pending = self->pending_allocated_bytes - freed;
    return pending < -LT_PUBLISH_BYTES;
}

/// Whether an allocation of `requested` bytes takes the slow path: it is due a sample, or the
/// thread is in a placeholder state (whose bytes_until_sample is 0).
static inline bool lt_reaches_sample(const lt_thread *self, size_t requested) {
    return requested >= (uint64_t)self->bytes_until_sample;
}

// --- the fast paths and their out-of-line halves (entry.c) ---

/// malloc when the allocation reaches the sampler's test (a sample, or a thread not yet registered).
LT_HIDDEN LT_COLD void *lt_malloc_slow(size_t size, uintptr_t frame_pointer);
// Out of line but not cold, these three: over a foreign allocator (jemalloc, tcmalloc) every
// malloc, free and malloc_usable_size takes them, and `cold` compiled them for size (redis under
// redis-benchmark: 2.7 instructions more per allocator call, callgrind).
/// The counting half of malloc(`requested`) once the block exists, for NULL and for foreign allocators.
LT_HIDDEN LT_NOINLINE void *lt_counted_allocation(void *pointer, size_t requested);
/// Publishes the calling thread's pending bytes; returns `pointer`.
LT_HIDDEN LT_COLD void *lt_published(void *pointer);
/// free of anything but an unsampled glibc block on a registered thread.
LT_HIDDEN LT_NOINLINE void lt_release_slow(void *pointer);
LT_HIDDEN LT_COLD void lt_free_after_publishing(lt_thread *self, void *pointer);
LT_HIDDEN LT_NOINLINE size_t lt_usable_size_slow(void *pointer);
/// malloc when the thread's guard countdown has run out: the block goes to the guarded pool.
LT_HIDDEN LT_COLD void *lt_malloc_guarded(size_t size, uintptr_t frame_pointer);
/// free of a pointer in the guarded pool, from the entry point whose frame record is at `frame_pointer`.
LT_HIDDEN LT_COLD void lt_free_guarded(void *pointer, uintptr_t frame_pointer);
/// aligned_alloc for an entry point whose frame record is at `frame_pointer` (C++'s aligned new).
LT_HIDDEN void *lt_aligned_alloc_from(size_t alignment, size_t size, uintptr_t frame_pointer);

// The sampling decision comes before the call, the counting after it. `frame_pointer` is the
// frame of the libc entry point, where a sampled stack starts.
static LT_ALWAYS_INLINE void *lt_malloc_fast(size_t size, uintptr_t frame_pointer) {
    lt_thread *self = lt_self;
    if (LT_UNLIKELY(lt_reaches_sample(self, size))) return lt_malloc_slow(size, frame_pointer);
    self->bytes_until_sample -= (int64_t)size;
    if (LT_UNLIKELY(--self->allocations_until_guard == 0)) return lt_malloc_guarded(size, frame_pointer);
    void *pointer = lt_next.malloc(size);
    if (LT_UNLIKELY(pointer == NULL || !lt_next_is_glibc)) return lt_counted_allocation(pointer, size);
    if (LT_UNLIKELY(lt_count_allocation(lt_self, lt_glibc_usable_size(pointer)))) return lt_published(pointer);
    return pointer;
}

// A pointer in the guarded pool is told first, before anything reads the (perhaps PROT_NONE) word
// in front of it. A thread whose blocks need more than their glibc chunk header carries LT_THREAD_SLOW_FREE, so
// the test of its flags comes first and the inline header read below only ever sees glibc's
// blocks; there, a sampled block's marker sends it to the slow path.
static LT_ALWAYS_INLINE void lt_free_fast(void *pointer) {
    if (LT_UNLIKELY(pointer == NULL)) return;
    if (LT_UNLIKELY(lt_in_guard_pool(pointer))) {
        lt_free_guarded(pointer, (uintptr_t)__builtin_frame_address(0));
        return;
    }
    lt_thread *self = lt_self;
    if (LT_UNLIKELY(self->flags)) {
        lt_release_slow(pointer);
        return;
    }
    size_t header = ((const size_t *)pointer)[-1];
    if (LT_UNLIKELY(header & LT_GLIBC_SIZE_UNUSED_BIT)) {
        lt_release_slow(pointer);
        return;
    }
    if (LT_UNLIKELY(lt_count_free(self, lt_glibc_usable_size_from_header(header)))) {
        lt_free_after_publishing(self, pointer);
        return;
    }
    lt_next.free(pointer);
}

// Programs ask this often (the Swift runtime on every array and string buffer it allocates), so
// over glibc an ordinary block's answer comes from its chunk header, as free() takes it.
static LT_ALWAYS_INLINE size_t lt_malloc_usable_size_fast(void *pointer) {
    if (LT_LIKELY(lt_next_is_glibc && pointer != NULL && !lt_in_guard_pool(pointer))) {
        size_t header = ((const size_t *)pointer)[-1];
        if (LT_LIKELY(!(header & LT_GLIBC_SIZE_UNUSED_BIT))) return lt_glibc_usable_size_from_header(header);
    }
    return lt_usable_size_slow(pointer);
}

#endif
