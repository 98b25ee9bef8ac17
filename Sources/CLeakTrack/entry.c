// The tracker's allocation entry points. The common case of each is a handful of instructions on
// the calling thread's own counters with one predictable branch; everything rare (a thread's
// first allocation, a sample, a sampled block being freed, a thread past its exit, a publish)
// goes through a cold out-of-line slow path, called last so that it compiles to a jump. The fast
// paths of malloc, free and malloc_usable_size are in include/CLeakTrackFastPaths.h, which
// LeakAgentHooks inlines into the libc names; their slow halves are here.
//
// Whether an allocation is sampled is decided before the call into the next allocator: a sampled
// block is asked for with room for its record in front (see lt_internal.h).
#include <errno.h>

#include "include/CLeakTrackEntry.h"
#include "lt_internal.h"

void *lt_published(void *pointer) {
    lt_publish(lt_self);
    return pointer;
}

void lt_free_after_publishing(lt_thread *self, void *pointer) {
    lt_publish(self);
    lt_next.free(pointer);
}

// --- counting blocks that are not sampled ---

// Everything the counting of an unsampled allocation does that is not the common case.
static LT_COLD void *allocation_slow(void *pointer, size_t requested) {
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
    if (lt_count_allocation(self, usable)) lt_publish(self);
    // A thread that declined a sample (inside the tracker) keeps its gap: the next allocation takes it.
    if (!lt_reaches_sample(self, requested)) self->bytes_until_sample -= (int64_t)requested;
    return pointer;
}

static inline void *track_allocation(void *pointer, size_t requested) {
    lt_thread *self = lt_self;
    if (LT_UNLIKELY(lt_reaches_sample(self, requested) || pointer == NULL)) return allocation_slow(pointer, requested);
    self->bytes_until_sample -= (int64_t)requested;
    if (LT_UNLIKELY(lt_count_allocation(self, lt_usable_size(pointer)))) return lt_published(pointer);
    return pointer;
}

void *lt_counted_allocation(void *pointer, size_t requested) {
    if (pointer == NULL) return NULL;
    lt_thread *self = lt_self;
    if (lt_count_allocation(self, lt_allocated_size(pointer, requested))) lt_publish(self);
    return pointer;
}

// --- which allocations are sampled ---

/// The calling thread, registered, if it may record samples at all; NULL inside the tracker, on
/// the thread resolving the next allocator, and for an orphan or the agent's own thread.
static lt_thread *thread_that_may_sample(void) {
    if (lt_busy) return NULL;
    lt_thread *self = lt_self;
    if (self->flags & LT_THREAD_UNREGISTERED) {
        // A registered thread has seen the allocator resolved: no thread registers before.
        if (!lt_resolve_next_allocator()) return NULL;
        self = lt_self; // resolving may have allocated, and so registered the thread
        if (self->flags & LT_THREAD_UNREGISTERED) self = lt_thread_register();
    }
    if (self->flags & (LT_THREAD_UNREGISTERED | LT_THREAD_ORPHAN | LT_THREAD_AGENT)) return NULL;
    return self;
}

/// The calling thread if an allocation of `requested` bytes, which reached the sampler's test, is
/// due a sample there, its next gap then drawn; NULL otherwise (a thread registered just now has a
/// first gap of its own, which the allocation need not reach).
static LT_COLD lt_thread *thread_due_sample(size_t requested) {
    lt_thread *self = thread_that_may_sample();
    if (self == NULL || !lt_reaches_sample(self, requested)) return NULL;
    self->bytes_until_sample = lt_next_sample_gap(self);
    return self;
}

/// thread_due_sample for any allocation of `size` bytes aligned to `alignment` (16 for the
/// default), its own thread's test made inline first; an alignment the next allocator is to reject
/// is never sampled.
static inline lt_thread *thread_due_aligned_sample(size_t alignment, size_t size) {
    if (LT_LIKELY(!lt_reaches_sample(lt_self, size))) return NULL;
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) return NULL;
    return thread_due_sample(size);
}

// --- sampled blocks ---

/// The distance from a sampled glibc block's start to the application's pointer.
static size_t prefix_offset(void *pointer) { return (size_t)1 << lt_prefix_of(pointer)->offset_shift; }

/// The bytes the application may use in a sampled block that is `offset` bytes into the block
/// the next allocator returned.
static size_t sampled_usable_size(void *pointer, size_t offset) {
    size_t held = lt_usable_size((char *)pointer - offset);
    return held > offset ? held - offset : 0;
}

/// Whether a block being freed (or realloc'd) is sampled; if so, takes out its record (from the
/// sample set, when records are not in prefixes) and the distance back to the allocator's block.
static bool take_record(void *pointer, lt_sample_record *record, size_t *offset) {
    if (LT_LIKELY(lt_records_in_prefix)) {
        if (!lt_glibc_block_is_sampled(pointer)) return false;
        *record = *lt_prefix_of(pointer);
        *offset = prefix_offset(pointer);
        return true;
    }
    *offset = 0;
    return lt_filter_may_contain(pointer) && lt_sample_set_remove(pointer, record);
}

/// Allocates `size` bytes (aligned to `alignment` if above 16, zeroed if asked) as a sampled block
/// with its record in front, and counts them. Only when lt_records_in_prefix.
static LT_COLD void *sampled_allocation(lt_thread *self, size_t size, size_t alignment, bool zeroed,
                                        uintptr_t frame_pointer, const lt_tag *tag) {
    size_t offset = alignment > LT_SAMPLE_PREFIX_BYTES ? alignment : LT_SAMPLE_PREFIX_BYTES;
    size_t total;
    if (__builtin_add_overflow(size, offset, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *block = alignment > 16 ? lt_next.memalign(alignment, total) : zeroed ? lt_next.calloc(1, total) : lt_next.malloc(total);
    if (block == NULL) return NULL;
    void *pointer = (char *)block + offset;
    size_t usable = sampled_usable_size(pointer, offset);
    if (lt_count_allocation(self, usable)) lt_publish(self);
    lt_record_sample(self, pointer, offset, size, usable, frame_pointer, tag);
    return pointer;
}

/// Counts a block the entry point's own call returned and records it in the sample set. Only when
/// records are not in prefixes: the allocation itself is then the one the application asked for.
static LT_COLD void *recorded(lt_thread *self, void *pointer, size_t size, uintptr_t frame_pointer, const lt_tag *tag) {
    if (pointer == NULL) return NULL;
    size_t usable = lt_usable_size(pointer);
    if (lt_count_allocation(self, usable)) lt_publish(self);
    // Without room in the set the block stays an ordinary one.
    (void)lt_record_sample(self, pointer, 0, size, usable, frame_pointer, tag);
    return pointer;
}

/// Counts the block an entry point's own call to the next allocator returned: recorded in the
/// sample set when `sampler` sampled it (records are then not in prefixes), else only counted.
static inline void *counted(void *pointer, size_t size, lt_thread *sampler, uintptr_t frame_pointer, const lt_tag *tag) {
    if (LT_UNLIKELY(sampler != NULL)) return recorded(sampler, pointer, size, frame_pointer, tag);
    return track_allocation(pointer, size);
}

// --- the guarded pool (guard_pool.c) ---

/// Places an allocation that is due the pool there and counts it (its requested size is all it
/// holds), recorded as a sample too when `sampler` sampled it (in the sample set: a pool block has
/// no room in front). NULL when the pool did not take it: the caller serves it as usual.
static LT_COLD void *guarded_allocation(lt_thread *self, size_t size, size_t alignment, lt_thread *sampler,
                                        uintptr_t frame_pointer) {
    self->allocations_until_guard = lt_next_guard_gap(self);
    if (lt_busy) return NULL; // the tracker's own, and the forking thread's while it holds every lock
    // The agent's threads (loading the Swift runtime alone takes hundreds of blocks) would only
    // spend the slots the program's bugs need.
    if (self->flags & LT_THREAD_AGENT) return NULL;
    void *pointer = lt_guard_allocate(size, alignment, frame_pointer, self->stack_high);
    if (pointer == NULL) return NULL;
    if (lt_count_allocation(self, size)) lt_publish(self);
    if (sampler) (void)lt_record_sample(sampler, pointer, 0, size, size, frame_pointer, NULL);
    return pointer;
}

/// guarded_allocation if the calling thread's own countdown says this allocation goes to the pool.
static inline void *guarded_if_due(size_t size, size_t alignment, lt_thread *sampler, uintptr_t frame_pointer) {
    lt_thread *self = lt_self;
    if (LT_LIKELY(self->flags & (LT_THREAD_UNREGISTERED | LT_THREAD_ORPHAN))) return NULL; // placeholders: shared
    if (LT_LIKELY(--self->allocations_until_guard != 0)) return NULL;
    return guarded_allocation(self, size, alignment, sampler, frame_pointer);
}

void *lt_malloc_guarded(size_t size, uintptr_t frame_pointer) {
    void *pointer = guarded_allocation(lt_self, size, 16, NULL, frame_pointer);
    return pointer ? pointer : lt_counted_allocation(lt_next.malloc(size), size);
}

/// Counts the release of `usable` bytes by the calling thread, whatever state it is in.
static void count_release(size_t usable) {
    lt_thread *self = lt_self;
    if (lt_busy || (self->flags & LT_THREAD_UNREGISTERED)) {
        // Before a thread's first allocation, or inside registration: nothing of ours to count
        // against, so the free goes to the orphan totals and stays balanced.
        if (!lt_busy) lt_count_orphan_free(usable);
    } else if (self->flags & LT_THREAD_ORPHAN) {
        lt_count_orphan_free(usable);
    } else if (lt_count_free(self, usable)) {
        lt_publish(self);
    }
}

void lt_free_guarded(void *pointer, uintptr_t frame_pointer) {
    size_t size = lt_guard_block_size(pointer);
    // Its sample record goes first: once in quarantine the slot may be handed out again.
    lt_sample_record record;
    if (size != SIZE_MAX && lt_filter_may_contain(pointer) && lt_sample_set_remove(pointer, &record)) {
        lt_retire_sample(&record, 0);
    }
    if (!lt_guard_release(pointer, frame_pointer, lt_self->stack_high)) return; // double or invalid: reported
    count_release(size);
}

// --- frees ---

void lt_release_slow(void *pointer) {
    if (lt_is_bootstrap_pointer(pointer)) return;
    lt_sample_record record;
    size_t offset, usable;
    if (take_record(pointer, &record, &offset)) {
        usable = sampled_usable_size(pointer, offset);
        lt_retire_sample(&record, offset);
    } else {
        offset = 0;
        usable = lt_next_usable_size(pointer);
    }
    count_release(usable);
    lt_next.free((char *)pointer - offset);
}

// --- allocation entry points ---

#define FRAME() ((uintptr_t)__builtin_frame_address(0))

// Out-of-line copies of the inline fast paths, for the tracker's own frees (realloc, tagged
// blocks), the sized frees' forwards and the core driver; LeakAgentHooks inlines them.
void *lt_malloc(size_t size) {
    return lt_malloc_fast(size, FRAME());
}

void lt_free(void *pointer) {
    lt_free_fast(pointer);
}

void *lt_malloc_slow(size_t size, uintptr_t frame_pointer) {
    lt_thread *sampler = thread_due_sample(size);
    void *guarded = guarded_if_due(size, 16, sampler, frame_pointer);
    if (LT_UNLIKELY(guarded != NULL)) return guarded;
    if (sampler && lt_records_in_prefix) return sampled_allocation(sampler, size, 0, false, frame_pointer, NULL);
    return counted(lt_next.malloc(size), size, sampler, frame_pointer, NULL);
}

void *lt_calloc(size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    lt_thread *sampler = thread_due_aligned_sample(16, total);
    void *guarded = guarded_if_due(total, 16, sampler, FRAME()); // a pool block is zeroed
    if (LT_UNLIKELY(guarded != NULL)) return guarded;
    if (LT_UNLIKELY(sampler != NULL) && lt_records_in_prefix) return sampled_allocation(sampler, total, 0, true, FRAME(), NULL);
    return counted(lt_next.calloc(count, size), total, sampler, FRAME(), NULL);
}

int lt_posix_memalign(void **out, size_t alignment, size_t size) {
    lt_thread *sampler = alignment % sizeof(void *) == 0 ? thread_due_aligned_sample(alignment, size) : NULL;
    void *guarded = alignment % sizeof(void *) == 0 ? guarded_if_due(size, alignment, sampler, FRAME()) : NULL;
    if (LT_UNLIKELY(guarded != NULL)) {
        *out = guarded;
        return 0;
    }
    if (LT_UNLIKELY(sampler != NULL) && lt_records_in_prefix) {
        void *pointer = sampled_allocation(sampler, size, alignment, false, FRAME(), NULL);
        if (pointer == NULL) return ENOMEM;
        *out = pointer;
        return 0;
    }
    int result = lt_next.posix_memalign(out, alignment, size);
    if (result != 0) return result;
    if (LT_UNLIKELY(sampler != NULL)) {
        recorded(sampler, *out, size, FRAME(), NULL);
    } else {
        track_allocation(*out, size);
    }
    return 0;
}

static inline void *aligned_allocation(size_t alignment, size_t size, uintptr_t frame_pointer) {
    lt_thread *sampler = thread_due_aligned_sample(alignment, size);
    void *guarded = guarded_if_due(size, alignment, sampler, frame_pointer);
    if (LT_UNLIKELY(guarded != NULL)) return guarded;
    if (LT_UNLIKELY(sampler != NULL) && lt_records_in_prefix) {
        return sampled_allocation(sampler, size, alignment, false, frame_pointer, NULL);
    }
    return counted(lt_next.aligned_alloc(alignment, size), size, sampler, frame_pointer, NULL);
}

void *lt_aligned_alloc(size_t alignment, size_t size) {
    return aligned_allocation(alignment, size, FRAME());
}

void *lt_aligned_alloc_from(size_t alignment, size_t size, uintptr_t frame_pointer) {
    return aligned_allocation(alignment, size, frame_pointer);
}

void *lt_memalign(size_t alignment, size_t size) {
    lt_thread *sampler = thread_due_aligned_sample(alignment, size);
    void *guarded = guarded_if_due(size, alignment, sampler, FRAME());
    if (LT_UNLIKELY(guarded != NULL)) return guarded;
    if (LT_UNLIKELY(sampler != NULL) && lt_records_in_prefix) {
        return sampled_allocation(sampler, size, alignment, false, FRAME(), NULL);
    }
    return counted(lt_next.memalign(alignment, size), size, sampler, FRAME(), NULL);
}

void *lt_valloc(size_t size) {
    size_t page = lt_page_size();
    lt_thread *sampler = thread_due_aligned_sample(page, size);
    void *guarded = guarded_if_due(size, page, sampler, FRAME());
    if (LT_UNLIKELY(guarded != NULL)) return guarded;
    if (LT_UNLIKELY(sampler != NULL) && lt_records_in_prefix) return sampled_allocation(sampler, size, page, false, FRAME(), NULL);
    return counted(lt_next.valloc(size), size, sampler, FRAME(), NULL);
}

void *lt_pvalloc(size_t size) {
    size_t page = lt_page_size();
    lt_thread *sampler = thread_due_aligned_sample(page, size);
    size_t counted_size = size;
    if (LT_UNLIKELY(sampler != NULL)) {
        // A sample stands for the whole pages pvalloc gives.
        counted_size = size == 0 ? page : (size + page - 1) & ~(page - 1);
        if (counted_size < size) {
            errno = ENOMEM;
            return NULL;
        }
        if (lt_records_in_prefix) return sampled_allocation(sampler, counted_size, page, false, FRAME(), NULL);
    }
    // pvalloc's whole pages: a block of them fills its slot.
    size_t whole_pages = size == 0 ? page : (size + page - 1) & ~(page - 1);
    void *guarded = whole_pages >= size ? guarded_if_due(whole_pages, page, NULL, FRAME()) : NULL;
    if (LT_UNLIKELY(guarded != NULL)) return guarded;
    return counted(lt_next.pvalloc(size), counted_size, sampler, FRAME(), NULL);
}

// --- realloc ---

// Accounts for the release of a live block without freeing it (realloc hands it on).
static inline void track_release(lt_thread *self, size_t usable) {
    if (LT_UNLIKELY(self->flags & (LT_THREAD_UNREGISTERED | LT_THREAD_ORPHAN))) {
        lt_count_orphan_free(usable);
    } else if (lt_count_free(self, usable)) {
        lt_publish(self);
    }
}

/// realloc when records are in prefixes and the old block or the new one is sampled.
static LT_COLD void *resized_with_prefix(void *pointer, size_t size, bool was_sampled, lt_thread *sampler,
                                         uintptr_t frame_pointer) {
    if (size == 0) {
        lt_free(pointer); // as glibc's realloc(p, 0) does
        return NULL;
    }
    if (was_sampled && sampler && prefix_offset(pointer) == LT_SAMPLE_PREFIX_BYTES) {
        // Sampled before and after: glibc resizes the whole block, record and all, in place when
        // it can (a growing buffer stays O(1) per step), and the record is written afresh.
        lt_sample_record record = *lt_prefix_of(pointer);
        size_t old_usable = sampled_usable_size(pointer, LT_SAMPLE_PREFIX_BYTES);
        size_t total;
        if (__builtin_add_overflow(size, LT_SAMPLE_PREFIX_BYTES, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        char *block = lt_next.realloc((char *)pointer - LT_SAMPLE_PREFIX_BYTES, total);
        if (block == NULL) return NULL; // the old block stays as it was
        lt_retire_sample(&record, LT_SAMPLE_PREFIX_BYTES);
        track_release(sampler, old_usable);
        void *resized = block + LT_SAMPLE_PREFIX_BYTES;
        size_t usable = sampled_usable_size(resized, LT_SAMPLE_PREFIX_BYTES);
        if (lt_count_allocation(sampler, usable)) lt_publish(sampler);
        lt_record_sample(sampler, resized, LT_SAMPLE_PREFIX_BYTES, size, usable, frame_pointer, NULL);
        return resized;
    }
    // A record appears, goes, or has an aligned block's offset: copy into a fresh block.
    size_t old_usable = was_sampled ? sampled_usable_size(pointer, prefix_offset(pointer)) : lt_usable_size(pointer);
    void *fresh = sampler ? sampled_allocation(sampler, size, 0, false, frame_pointer, NULL)
                          : track_allocation(lt_next.malloc(size), size);
    if (fresh == NULL) return NULL; // the old block stays as it was
    __builtin_memcpy(fresh, pointer, old_usable < size ? old_usable : size);
    lt_free(pointer);
    return fresh;
}

/// realloc by the next allocator's own realloc: no prefix involved. A sampled block's record in
/// the sample set is taken out first (the address may be reused the moment realloc returns) and
/// put back if realloc fails.
static void *resized_in_place(void *pointer, size_t size, lt_thread *sampler, uintptr_t frame_pointer) {
    if (lt_busy) return lt_next.realloc(pointer, size);
    lt_thread *self = lt_self; // after thread_due_sample, which may have registered the thread
    size_t old_usable = lt_usable_size(pointer);
    lt_sample_record record;
    size_t offset;
    bool had_record = !lt_records_in_prefix && take_record(pointer, &record, &offset);
    void *resized = lt_next.realloc(pointer, size);
    if (resized == NULL && size != 0) {
        // Nothing changed: the block keeps its record (or, without room to put it back, is
        // retired from the counters and freed later as an ordinary block).
        if (had_record && !lt_sample_set_add(pointer, &record)) lt_retire_sample(&record, 0);
        return NULL;
    }
    if (had_record) lt_retire_sample(&record, 0);
    track_release(self, old_usable);
    if (resized == NULL) return NULL; // realloc(p, 0) freed p
    if (sampler) return recorded(sampler, resized, size, frame_pointer, NULL);
    return track_allocation(resized, size);
}

/// A fresh block for realloc: from the pool when the thread is due it, else as malloc would give it.
static void *fresh_block(size_t size, lt_thread *sampler, uintptr_t frame_pointer) {
    void *guarded = guarded_if_due(size, 16, sampler, frame_pointer);
    if (guarded != NULL) return guarded;
    if (sampler && lt_records_in_prefix) return sampled_allocation(sampler, size, 0, false, frame_pointer, NULL);
    return counted(lt_next.malloc(size), size, sampler, frame_pointer, NULL);
}

/// Moves a block to a fresh one (into the pool or out of it): copies what both hold, frees the old.
static void *moved(void *pointer, size_t old_size, size_t size, lt_thread *sampler, uintptr_t frame_pointer) {
    void *fresh = fresh_block(size, sampler, frame_pointer);
    if (fresh == NULL) return NULL; // the old block stays as it was
    __builtin_memcpy(fresh, pointer, old_size < size ? old_size : size);
    if (lt_in_guard_pool(pointer)) {
        lt_free_guarded(pointer, frame_pointer);
    } else {
        lt_free(pointer);
    }
    return fresh;
}

/// realloc of a pointer in the guarded pool: always a move, out of the pool unless due again.
static LT_COLD void *reallocate_guarded(void *pointer, size_t size, uintptr_t frame_pointer) {
    size_t old_size = lt_guard_block_size(pointer);
    if (old_size == SIZE_MAX || size == 0) {
        lt_free_guarded(pointer, frame_pointer); // realloc(p, 0) frees, as glibc's; a bad pointer is reported
        return NULL;
    }
    return moved(pointer, old_size, size, thread_due_aligned_sample(16, size), frame_pointer);
}

static void *reallocate(void *pointer, size_t size, uintptr_t frame_pointer) {
    if (LT_UNLIKELY(lt_in_guard_pool(pointer))) return reallocate_guarded(pointer, size, frame_pointer);
    if (LT_UNLIKELY(lt_is_bootstrap_pointer(pointer))) {
        // Bootstrap blocks never reach the next allocator: move the data out to a real block.
        void *moved_out = track_allocation(lt_next.malloc(size), size);
        size_t available = lt_bootstrap_bytes_after(pointer);
        if (moved_out) __builtin_memcpy(moved_out, pointer, size < available ? size : available);
        return moved_out;
    }
    lt_thread *sampler = thread_due_aligned_sample(16, size);
    if (pointer == NULL) return fresh_block(size, sampler, frame_pointer);
    if (LT_UNLIKELY(size != 0 && size <= lt_page_size() && lt_guard_pool.bytes != 0)) {
        // Into the pool when due: the countdown is taken here, the move below.
        void *guarded = guarded_if_due(size, 16, sampler, frame_pointer);
        if (guarded != NULL) {
            size_t old_size = lt_usable_size_slow(pointer);
            __builtin_memcpy(guarded, pointer, old_size < size ? old_size : size);
            lt_free(pointer);
            return guarded;
        }
    }
    if (lt_records_in_prefix) {
        bool was_sampled = lt_glibc_block_is_sampled(pointer);
        if (LT_UNLIKELY(was_sampled || sampler)) return resized_with_prefix(pointer, size, was_sampled, sampler, frame_pointer);
    }
    return resized_in_place(pointer, size, sampler, frame_pointer);
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

size_t lt_usable_size_slow(void *pointer) {
    if (pointer == NULL || lt_is_bootstrap_pointer(pointer)) return 0;
    if (lt_in_guard_pool(pointer)) {
        size_t size = lt_guard_block_size(pointer);
        return size == SIZE_MAX ? 0 : size; // only what was asked for: a byte more is past the guard
    }
    // Blocks whose records are in the sample set are not moved: only prefixes are left out.
    if (lt_records_in_prefix && lt_glibc_block_is_sampled(pointer)) return sampled_usable_size(pointer, prefix_offset(pointer));
    return lt_next.usable_size(pointer);
}

// --- Tagged allocations: always recorded, under their tag ---

void *lt_tagged_malloc(size_t size, const char *file, int line, const char *function) {
    lt_tag tag = {.file = file, .function = function, .line = line};
    lt_thread *self = thread_that_may_sample();
    if (self && lt_records_in_prefix) return sampled_allocation(self, size, 0, false, FRAME(), &tag);
    return counted(lt_next.malloc(size), size, self, FRAME(), &tag);
}

void *lt_tagged_calloc(size_t count, size_t size, const char *file, int line, const char *function) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    lt_tag tag = {.file = file, .function = function, .line = line};
    lt_thread *self = thread_that_may_sample();
    if (self && lt_records_in_prefix) return sampled_allocation(self, total, 0, true, FRAME(), &tag);
    return counted(lt_next.calloc(count, size), total, self, FRAME(), &tag);
}

void lt_tagged_free(void *pointer) {
    lt_free(pointer);
}
