// The tracker's allocation entry points. The common case of each is a handful of instructions on
// the calling thread's own counters with one predictable branch; everything rare (a thread's
// first allocation, a sample, a sampled pointer being freed, a thread past its exit, a publish)
// goes through a cold out-of-line slow path, reached by a tail call so that the fast paths keep
// nothing in callee-saved registers.
#include <errno.h>
#include <unistd.h>

#include "include/CLeakTrackEntry.h"
#include "lt_internal.h"

/// Counts an allocation; returns whether the thread's pending bytes are due to be published.
static inline bool count_allocation(lt_thread *self, size_t usable) {
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
static inline bool count_free(lt_thread *self, size_t usable) {
    LT_BUMP(self->free_count, 1);
    int64_t freed = self->pending_freed_bytes + (int64_t)usable;
    LT_STORE(self->pending_freed_bytes, freed);
    int64_t pending = self->pending_allocated_bytes - freed;
    return pending < -LT_PUBLISH_BYTES;
}

/// Whether an allocation of `requested` bytes takes the slow path: it is sampled, or the thread
/// is in a placeholder state (whose bytes_until_sample is 0).
static inline bool reaches_sample(const lt_thread *self, size_t requested) {
    return requested >= (uint64_t)self->bytes_until_sample;
}

static LT_COLD void *published(void *pointer) {
    lt_publish(lt_self);
    return pointer;
}

static LT_COLD void free_after_publishing(lt_thread *self, void *pointer) {
    lt_publish(self);
    lt_next.free(pointer);
}

// Everything an allocation does that is not the common case. `frame_pointer` is the entry
// point's frame, so a captured stack starts at the application's call to malloc.
static LT_COLD void *allocation_slow(void *pointer, size_t requested, uintptr_t frame_pointer, const lt_tag *tag) {
    lt_thread *self = lt_self;
    // The tracker's own allocations (registration, dlsym's while the allocator is resolved) pass
    // through; no thread registers before the allocator is known.
    if (lt_busy || lt_is_bootstrap_pointer(pointer)) return pointer;
    if (self->flags & LT_THREAD_UNREGISTERED) self = lt_thread_register();
    if (pointer == NULL) return NULL;
    size_t usable = lt_usable_size(pointer);
    if (self->flags & LT_THREAD_ORPHAN) {
        lt_count_orphan_allocation(usable, false);
        return pointer;
    }
    if (count_allocation(self, usable)) lt_publish(self);
    if (self->flags & LT_THREAD_AGENT) return pointer;
    if (tag != NULL || reaches_sample(self, requested)) {
        if (tag == NULL) self->bytes_until_sample = lt_next_sample_gap(self);
        lt_record_sample(self, pointer, requested, usable, frame_pointer, tag);
    } else {
        self->bytes_until_sample -= (int64_t)requested;
    }
    return pointer;
}

static inline void *track_allocation(void *pointer, size_t requested, uintptr_t frame_pointer) {
    lt_thread *self = lt_self;
    if (LT_UNLIKELY(reaches_sample(self, requested) || pointer == NULL)) {
        return allocation_slow(pointer, requested, frame_pointer, NULL);
    }
    self->bytes_until_sample -= (int64_t)requested;
    if (LT_UNLIKELY(count_allocation(self, lt_usable_size(pointer)))) return published(pointer);
    return pointer;
}

static LT_COLD void *malloc_slow(size_t size, uintptr_t frame_pointer) {
    return allocation_slow(lt_next.malloc(size), size, frame_pointer, NULL);
}

// The counting half of malloc when the next allocator is not glibc's.
static LT_COLD void *counted_with_foreign_size(void *pointer) {
    lt_thread *self = lt_self;
    if (count_allocation(self, lt_usable_size(pointer))) lt_publish(self);
    return pointer;
}

// The counting half of malloc, entered by a tail call once the block exists: neither half keeps a
// value across a call, so neither saves registers, and the rare cases leave by tail calls too.
static LT_NOINLINE void *counted_allocation(void *pointer) {
    if (LT_UNLIKELY(pointer == NULL)) return NULL;
    if (LT_UNLIKELY(!lt_next_is_glibc)) LT_MUSTTAIL return counted_with_foreign_size(pointer);
    if (LT_UNLIKELY(count_allocation(lt_self, lt_glibc_usable_size(pointer)))) LT_MUSTTAIL return published(pointer);
    return pointer;
}

static LT_COLD void release_slow(void *pointer) {
    if (lt_is_bootstrap_pointer(pointer)) return;
    lt_thread *self = lt_self;
    // The live-table slot and the block's header are both likely cache misses: start the first
    // before taking the second, so that they overlap.
    bool may_be_sampled = !lt_busy && lt_filter_may_contain(pointer);
    if (may_be_sampled) lt_prefetch_sample(pointer);
    size_t usable = lt_usable_size(pointer);
    if (may_be_sampled) lt_retire_sample(pointer);
    if (lt_busy || (self->flags & LT_THREAD_UNREGISTERED)) {
        // Before a thread's first allocation, or inside registration: nothing of ours to count
        // against, so the free goes to the orphan totals and stays balanced.
        if (!lt_busy) lt_count_orphan_free(usable);
    } else if (self->flags & LT_THREAD_ORPHAN) {
        lt_count_orphan_free(usable);
    } else if (count_free(self, usable)) {
        lt_publish(self);
    }
    lt_next.free(pointer);
}

// Accounts for the release of a live block without freeing it (realloc hands it on).
static inline void track_release(lt_thread *self, void *pointer, size_t usable) {
    if (LT_UNLIKELY(lt_filter_may_contain(pointer))) lt_retire_sample(pointer);
    if (LT_UNLIKELY(self->flags & (LT_THREAD_UNREGISTERED | LT_THREAD_ORPHAN))) {
        lt_count_orphan_free(usable);
    } else if (count_free(self, usable)) {
        lt_publish(self);
    }
}

#define FRAME() ((uintptr_t)__builtin_frame_address(0))

// The sampling decision comes before the call, the counting after it.
void *lt_malloc(size_t size) {
    lt_thread *self = lt_self;
    if (LT_UNLIKELY(reaches_sample(self, size))) return malloc_slow(size, FRAME());
    self->bytes_until_sample -= (int64_t)size;
    return counted_allocation(lt_next.malloc(size));
}

// A thread whose allocator is not glibc's carries LT_THREAD_FOREIGN_SIZES, so the one test of
// its flags also keeps the inline chunk-size read below from ever seeing a foreign block.
void lt_free(void *pointer) {
    if (LT_UNLIKELY(pointer == NULL)) return;
    lt_thread *self = lt_self;
    if (LT_UNLIKELY(self->flags | lt_filter_may_contain(pointer))) {
        release_slow(pointer);
        return;
    }
    if (LT_UNLIKELY(count_free(self, lt_glibc_usable_size(pointer)))) {
        free_after_publishing(self, pointer);
        return;
    }
    lt_next.free(pointer);
}

void *lt_calloc(size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return track_allocation(lt_next.calloc(count, size), total, FRAME());
}

static void *reallocate(void *pointer, size_t size, uintptr_t frame_pointer) {
    if (pointer == NULL) return track_allocation(lt_next.malloc(size), size, frame_pointer);
    if (LT_UNLIKELY(lt_is_bootstrap_pointer(pointer))) {
        // Bootstrap blocks never reach the next allocator: move the data out to a real block.
        void *moved = track_allocation(lt_next.malloc(size), size, frame_pointer);
        if (moved) __builtin_memcpy(moved, pointer, size); // the arena outlives every copy
        return moved;
    }
    lt_thread *self = lt_self;
    size_t old_usable = lt_usable_size(pointer);
    if (lt_busy) return lt_next.realloc(pointer, size);
    void *moved = lt_next.realloc(pointer, size);
    if (moved == NULL) {
        // realloc(p, 0) may free p and return NULL; any other NULL leaves p untouched.
        if (size == 0) track_release(self, pointer, old_usable);
        return NULL;
    }
    track_release(self, pointer, old_usable);
    return track_allocation(moved, size, frame_pointer);
}

void *lt_realloc(void *pointer, size_t size) {
    return reallocate(pointer, size, FRAME());
}

void *lt_reallocarray(void *pointer, size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return reallocate(pointer, total, FRAME());
}

int lt_posix_memalign(void **out, size_t alignment, size_t size) {
    int result = lt_next.posix_memalign(out, alignment, size);
    if (result == 0) track_allocation(*out, size, FRAME());
    return result;
}

void *lt_aligned_alloc(size_t alignment, size_t size) {
    return track_allocation(lt_next.aligned_alloc(alignment, size), size, FRAME());
}

void *lt_memalign(size_t alignment, size_t size) {
    return track_allocation(lt_next.memalign(alignment, size), size, FRAME());
}

void *lt_valloc(size_t size) {
    return track_allocation(lt_next.valloc(size), size, FRAME());
}

void *lt_pvalloc(size_t size) {
    return track_allocation(lt_next.pvalloc(size), size, FRAME());
}

// --- Tagged allocations -------------------------------------------------------------------

void *lt_tagged_malloc(size_t size, const char *file, int line, const char *function) {
    lt_tag tag = {.file = file, .function = function, .line = line};
    void *pointer = lt_next.malloc(size);
    return allocation_slow(pointer, size, FRAME(), &tag);
}

void *lt_tagged_calloc(size_t count, size_t size, const char *file, int line, const char *function) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    lt_tag tag = {.file = file, .function = function, .line = line};
    return allocation_slow(lt_next.calloc(count, size), total, FRAME(), &tag);
}

void lt_tagged_free(void *pointer) {
    lt_free(pointer);
}
