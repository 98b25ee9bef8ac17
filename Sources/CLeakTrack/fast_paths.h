// The fast paths of malloc, free and malloc_usable_size, inline so that LeakAgentHooks defines the
// libc names with these very bodies. A jump from the libc name to an out-of-line entry point cost
// 0.4 ns per call on the build machine (scratch A/B, 21 runs pinned: 16.6 -> 15.8 ns per pair),
// a fifth of the tracker's whole cost. Everything rare is out of line in entry.c, called last so
// that it compiles to a jump. malloc's counting half is inline too, although the value kept across the call into
// the next allocator then costs a saved register: 0.2-0.5 ns per pair less than jumping to it.
#ifndef LT_FAST_PATHS_H
#define LT_FAST_PATHS_H

#include "lt_internal.h"

#define LT_ALWAYS_INLINE __attribute__((always_inline)) inline

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

// The out-of-line halves (entry.c).
/// malloc when the allocation reaches the sampler's test (a sample, or a thread not yet registered).
LT_HIDDEN LT_COLD void *lt_malloc_slow(size_t size, uintptr_t frame_pointer);
/// The counting half of malloc once the block exists, for NULL and for foreign allocators.
LT_HIDDEN LT_COLD void *lt_counted_allocation(void *pointer);
/// Publishes the calling thread's pending bytes; returns `pointer`.
LT_HIDDEN LT_COLD void *lt_published(void *pointer);
/// free of anything but an unsampled glibc block on a registered thread.
LT_HIDDEN LT_COLD void lt_release_slow(void *pointer);
LT_HIDDEN LT_COLD void lt_free_after_publishing(lt_thread *self, void *pointer);
LT_HIDDEN LT_COLD size_t lt_usable_size_slow(void *pointer);
/// aligned_alloc for an entry point whose frame record is at `frame_pointer` (C++'s aligned new).
LT_HIDDEN void *lt_aligned_alloc_from(size_t alignment, size_t size, uintptr_t frame_pointer);

// The sampling decision comes before the call, the counting after it. `frame_pointer` is the
// frame of the libc entry point, where a sampled stack starts.
static LT_ALWAYS_INLINE void *lt_malloc_fast(size_t size, uintptr_t frame_pointer) {
    lt_thread *self = lt_self;
    if (LT_UNLIKELY(lt_reaches_sample(self, size))) return lt_malloc_slow(size, frame_pointer);
    self->bytes_until_sample -= (int64_t)size;
    void *pointer = lt_next.malloc(size);
    if (LT_UNLIKELY(pointer == NULL || !lt_next_is_glibc)) return lt_counted_allocation(pointer);
    if (LT_UNLIKELY(lt_count_allocation(lt_self, lt_glibc_usable_size(pointer)))) return lt_published(pointer);
    return pointer;
}

// A thread whose blocks need more than their glibc chunk header carries LT_THREAD_SLOW_FREE, so
// the test of its flags comes first and the inline header read below only ever sees glibc's
// blocks; there, a sampled block's marker sends it to the slow path.
static LT_ALWAYS_INLINE void lt_free_fast(void *pointer) {
    if (LT_UNLIKELY(pointer == NULL)) return;
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
    if (LT_LIKELY(lt_next_is_glibc && pointer != NULL)) {
        size_t header = ((const size_t *)pointer)[-1];
        if (LT_LIKELY(!(header & LT_GLIBC_SIZE_UNUSED_BIT))) return lt_glibc_usable_size_from_header(header);
    }
    return lt_usable_size_slow(pointer);
}

#endif
