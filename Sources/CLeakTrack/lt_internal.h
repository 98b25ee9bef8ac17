// Shared internals of the tracking allocator. Nothing here crosses into Swift.
#ifndef LT_INTERNAL_H
#define LT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/CLeakTrack.h"

#define LT_LIKELY(x) __builtin_expect(!!(x), 1)
#define LT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LT_HIDDEN __attribute__((visibility("hidden")))
#define LT_NOINLINE __attribute__((noinline))
#define LT_COLD __attribute__((cold, noinline))
#define LT_CACHE_LINE 64
#define LT_TLS __attribute__((tls_model("initial-exec")))

// Owner-thread writes that other threads read while folding: relaxed atomics compile to plain
// moves on x86-64 and arm64 but keep the readers' loads free of undefined behaviour.
#define LT_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define LT_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define LT_BUMP(x, v) LT_STORE((x), (x) + (v))

/// How far a thread's unpublished net byte count may drift before it folds into the global
/// current (and the global peak). The peak's error is bounded by live threads x this.
#define LT_PUBLISH_BYTES (16 * 1024)

#define LT_LARGE_SIZE_SLOTS 256

enum lt_thread_flags {
    LT_THREAD_UNREGISTERED = 1u << 0, // the static placeholder every thread starts on
    LT_THREAD_ORPHAN = 1u << 1,       // thread past its TLS destructor, or no slot available
    LT_THREAD_AGENT = 1u << 2,        // the agent's own thread: counted apart, never sampled
};

/// A thread's private counters. Written only by its owner, folded by readers.
/// `bytes_until_sample` doubles as the fast path's single test: the placeholder states hold 0
/// there, so a thread's very first allocation takes the slow path and registers it.
typedef struct lt_thread {
    // First line: everything the malloc/free fast path touches.
    int64_t bytes_until_sample;
    uint32_t flags; // non-zero sends free() to the slow path
    uint32_t reserved;
    uint64_t allocation_count;
    uint64_t allocated_bytes;
    uint64_t free_count;
    uint64_t freed_bytes;
    int64_t pending_bytes;      // net bytes since the last publish
    int64_t pending_peak_bytes; // high-water mark of pending_bytes since the last publish

    uint64_t size_class_count[LT_SIZE_CLASS_COUNT];
    uint64_t size_class_bytes[LT_SIZE_CLASS_COUNT];
    uint64_t exact_size_count[LT_EXACT_SIZE_LIMIT];

    // Cold: sampling and bookkeeping.
    uint64_t random_state;
    uintptr_t stack_high; // exclusive top of this thread's stack; 0 when unknown
    struct lt_thread *next_in_registry;
    bool in_use;
    uint32_t sampling_pauses;
} lt_thread;

/// Counters of threads that have exited, and of orphan allocations, updated under the registry
/// lock or with atomics (both rare).
typedef struct lt_totals {
    _Atomic uint64_t allocation_count;
    _Atomic uint64_t allocated_bytes;
    _Atomic uint64_t free_count;
    _Atomic uint64_t freed_bytes;
    _Atomic uint64_t agent_allocated_bytes;
    _Atomic uint64_t agent_freed_bytes;
    _Atomic uint64_t agent_allocation_count;
    _Atomic uint64_t size_class_count[LT_SIZE_CLASS_COUNT];
    _Atomic uint64_t size_class_bytes[LT_SIZE_CLASS_COUNT];
} lt_totals;

// --- forward.c: the allocator the process would have used without us ---
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
LT_HIDDEN bool lt_is_bootstrap_pointer(const void *pointer);

// glibc keeps a chunk's size in the word before the block (the low bits are flags, 2 = mmapped).
// Reading it inline saves a call and the read of the next chunk's header that
// malloc_usable_size makes; forward.c enables it only after checking it agrees with glibc.
static inline size_t lt_glibc_usable_size(const void *pointer) {
    size_t header = ((const size_t *)pointer)[-1];
    return (header & ~(size_t)7) - ((header & 2) ? 2 * sizeof(size_t) : sizeof(size_t));
}

static inline size_t lt_usable_size(void *pointer) {
    return LT_LIKELY(lt_next_is_glibc) ? lt_glibc_usable_size(pointer) : lt_next.usable_size(pointer);
}

// --- threads.c: per-thread state, registry, folding ---
LT_HIDDEN extern __thread lt_thread *lt_self LT_TLS;
LT_HIDDEN extern __thread int lt_busy LT_TLS;
LT_HIDDEN extern lt_totals lt_retired;
LT_HIDDEN extern _Atomic int64_t lt_published_bytes;
LT_HIDDEN extern _Atomic uint64_t lt_peak_bytes;
LT_HIDDEN extern _Atomic uint64_t lt_mapped_bytes;
LT_HIDDEN extern _Atomic int lt_hooks_seen;
LT_HIDDEN lt_thread *lt_thread_register(void);
LT_HIDDEN void lt_publish(lt_thread *self);
LT_HIDDEN void lt_count_orphan_allocation(size_t usable, bool agent);
LT_HIDDEN void lt_count_orphan_free(size_t usable);
LT_HIDDEN void lt_registry_lock(void);
LT_HIDDEN void lt_registry_unlock(void);
LT_HIDDEN void lt_registry_reinit_after_fork(void);
/// The first thread block; walk `next_in_registry`. Hold the registry lock.
LT_HIDDEN lt_thread *lt_registry_first(void);
LT_HIDDEN void *lt_map(size_t bytes);

// --- patterns.c ---
static inline unsigned lt_size_class_of(size_t size) {
    unsigned index = size ? 64u - (unsigned)__builtin_clzl(size) : 0u;
    return index < LT_SIZE_CLASS_COUNT ? index : LT_SIZE_CLASS_COUNT - 1;
}
/// Sizes from LT_EXACT_SIZE_LIMIT up are counted from samples (weighted like sites), under the
/// tables lock.
LT_HIDDEN void lt_count_sampled_large_size(size_t size, uint64_t objects_q16);

// --- sampler.c ---
LT_HIDDEN extern _Atomic uint64_t lt_sample_mean;
LT_HIDDEN int64_t lt_next_sample_gap(lt_thread *self);
LT_HIDDEN void lt_sample_weight(size_t size, uint64_t mean, uint64_t *bytes, uint64_t *objects_q16);
LT_HIDDEN void lt_sampler_configure_from_environment(void);

// --- stackwalk.c ---
LT_HIDDEN int lt_stack_walk(uintptr_t frame_pointer, uintptr_t stack_high, uintptr_t *frames, int capacity);
LT_HIDDEN uintptr_t lt_current_stack_high(void);

// --- livetable.c: sampled live allocations keyed by address, and the free-path filter ---
#define LT_FILTER_BITS 16
// One byte per slot, counting the sampled live pointers hashing there (saturating at 255), so
// free() of an unsampled pointer costs one load. Racy reads are fine: a pointer is inserted
// before malloc returns it, which happens-before any free of it.
LT_HIDDEN extern uint8_t lt_filter[1u << LT_FILTER_BITS];
static inline size_t lt_filter_slot(const void *pointer) {
    return (size_t)((((uintptr_t)pointer >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - LT_FILTER_BITS));
}
static inline bool lt_filter_may_contain(const void *pointer) {
    return LT_LOAD(lt_filter[lt_filter_slot(pointer)]) != 0;
}
typedef struct lt_tag {
    const char *file;
    const char *function;
    int line;
} lt_tag;
LT_HIDDEN void lt_record_sample(void *pointer, size_t size, uintptr_t frame_pointer, uintptr_t stack_high,
                                const lt_tag *tag);
/// Retires a sampled allocation if `pointer` is one; returns whether it was.
LT_HIDDEN bool lt_retire_sample(void *pointer);
LT_HIDDEN void lt_tables_lock(void);
LT_HIDDEN void lt_tables_unlock(void);
LT_HIDDEN void lt_tables_reinit_after_fork(void);
LT_HIDDEN uint64_t lt_sampled_live_count(void);

#endif
