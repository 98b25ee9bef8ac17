// Sampled allocations: their records (in each block's prefix, see lt_internal.h) and the per-site
// counters and allocation patterns (patterns.c) they feed.
//
// The counters are split into LT_SHARDS shards, each with its own spin lock; a thread counts its
// samples in the shard it was given at registration, and a free finds the shard in the record, so
// a shard's lock is taken only when an allocation is sampled, a sampled block is freed, or a
// reader sums the shards. All memory here is mapped (map.c): we cannot malloc inside malloc.
// Hazard: fork. fork.c takes every lock across fork so a child never inherits one held.
#include <string.h>

#include "lt_internal.h"

#define COUNTER_CHUNK_BITS 8
#define COUNTER_CHUNK (1u << COUNTER_CHUNK_BITS)

__thread bool lt_holding_tables LT_TLS;

typedef struct site_counters {
    uint64_t live_bytes;
    uint64_t live_objects_q16;
    uint64_t allocated_bytes;
    uint64_t allocated_objects_q16;
} site_counters;

typedef struct shard {
    _Alignas(LT_CACHE_LINE) lt_spin_lock lock;
    uint64_t live_count;
    uint64_t prefix_bytes;
    site_counters *counters[LT_MAX_SITES / COUNTER_CHUNK];
    lt_patterns patterns;
} shard;

static shard shards[LT_SHARDS];

// A chunk, once mapped, stays for good: its pointer is written once, under the shard's lock.
static site_counters *counters_of(shard *owner, uint32_t site) {
    site_counters *chunk = __atomic_load_n(&owner->counters[site >> COUNTER_CHUNK_BITS], __ATOMIC_ACQUIRE);
    return chunk ? &chunk[site & (COUNTER_CHUNK - 1)] : NULL;
}

/// Maps the chunk holding `site`'s counters if it is not there yet; false when it cannot.
static bool make_counters(shard *owner, uint32_t site) {
    if (counters_of(owner, site)) return true;
    lt_table_acquire(&owner->lock);
    site_counters **chunk = &owner->counters[site >> COUNTER_CHUNK_BITS];
    if (*chunk == NULL) __atomic_store_n(chunk, lt_map(COUNTER_CHUNK * sizeof(site_counters)), __ATOMIC_RELEASE);
    lt_table_release(&owner->lock);
    return counters_of(owner, site) != NULL;
}

/// The site of the stack sampled at the entry point whose frame record is at `frame_pointer`.
/// The walk finds frames[0] right; the step above it is trusted only where that function is known
/// to keep a frame pointer (operator new, Rust and C++ at -O2 do not), otherwise the stack is
/// unwound (unwind.c). The thread's cache holds only stacks the walk alone found that way, so
/// finding the same frames again is the same site: a loop allocating at one site pays the walk
/// and a compare, and a stack from code with frame pointers one table load more.
static uint32_t sampled_site(lt_thread *self, uintptr_t frame_pointer, const lt_tag *tag) {
    uintptr_t frames[LT_MAX_FRAMES];
    int count = lt_stack_walk(frame_pointer, self->stack_high, frames, LT_MAX_FRAMES);
    lt_site_cache *cache = &self->last_site;
    if (tag == NULL && count > 0 && count == cache->frame_count) {
        int same = 0;
        while (same < count && frames[same] == cache->frames[same]) same++;
        if (same == count) return cache->site;
    }
    bool unwound = false;
    if (count > 0 && !lt_frame_pointer_kept(frames[0])) {
        count = lt_unwind_stack(frame_pointer, self->stack_high, frames, LT_MAX_FRAMES, count, &unwound);
    }
    uint32_t site = lt_site_for_stack(frames, count, tag);
    if (tag == NULL && !unwound && site != UINT32_MAX) {
        cache->site = site;
        cache->frame_count = count;
        memcpy(cache->frames, frames, (size_t)count * sizeof(uintptr_t));
    }
    return site;
}

bool lt_record_sample(lt_thread *self, void *pointer, size_t offset, size_t size, size_t usable, uintptr_t frame_pointer,
                      const lt_tag *tag) {
    lt_sample_record record = {.shard = self->shard, .marker = LT_SAMPLE_MARKER};
    lt_sample_weight(size, tag ? 1 : lt_current_sample_mean(), &record.weight_bytes, &record.weight_objects_q16);
    record.site = sampled_site(self, frame_pointer, tag);

    shard *owner = &shards[record.shard];
    if (record.site != UINT32_MAX && !make_counters(owner, record.site)) {
        record.site = UINT32_MAX; // counted nowhere, so retired from nowhere
    }

    if (offset != 0) {
        record.offset_shift = (uint8_t)__builtin_ctzl(offset);
        *lt_prefix_of(pointer) = record;
    } else {
        // An entry for this pointer can only be stale (its block was freed behind our back, as
        // with jemalloc's dallocx): retire it before taking its place.
        lt_sample_record stale;
        if (lt_sample_set_remove(pointer, &stale)) lt_retire_sample(&stale, 0);
        if (!lt_sample_set_add(pointer, &record)) return false;
    }

    lt_table_acquire(&owner->lock);
    site_counters *site = record.site == UINT32_MAX ? NULL : counters_of(owner, record.site);
    if (site) {
        lt_count_patterns(&owner->patterns, size, usable, record.weight_objects_q16);
        site->allocated_bytes += record.weight_bytes;
        site->allocated_objects_q16 += record.weight_objects_q16;
        site->live_bytes += record.weight_bytes;
        site->live_objects_q16 += record.weight_objects_q16;
    }
    LT_STORE(owner->live_count, owner->live_count + 1);
    LT_STORE(owner->prefix_bytes, owner->prefix_bytes + offset);
    lt_table_release(&owner->lock);
    return true;
}

void lt_retire_sample(const lt_sample_record *record, size_t offset) {
    shard *owner = &shards[record->shard & (LT_SHARDS - 1)];
    lt_table_acquire(&owner->lock);
    site_counters *site = record->site == UINT32_MAX ? NULL : counters_of(owner, record->site);
    if (site) {
        site->live_bytes -= record->weight_bytes;
        site->live_objects_q16 -= record->weight_objects_q16;
    }
    LT_STORE(owner->live_count, owner->live_count - 1);
    LT_STORE(owner->prefix_bytes, owner->prefix_bytes - offset);
    lt_table_release(&owner->lock);
}

// --- readers and fork ---

void lt_tables_lock(void) {
    lt_sites_lock();
    lt_sample_set_lock();
    for (unsigned i = 0; i < LT_SHARDS; i++) lt_spin_acquire(&shards[i].lock);
    lt_holding_tables = true;
}

void lt_tables_unlock(void) {
    lt_holding_tables = false;
    for (unsigned i = LT_SHARDS; i-- > 0;) lt_spin_release(&shards[i].lock);
    lt_sample_set_unlock();
    lt_sites_unlock();
}

void lt_tables_reinit_after_fork(void) {
    lt_holding_tables = false;
    for (unsigned i = 0; i < LT_SHARDS; i++) atomic_store_explicit(&shards[i].lock, 0, memory_order_relaxed);
    lt_sample_set_reinit_after_fork();
    lt_sites_reinit_after_fork();
}

uint64_t lt_sampled_live_count(void) {
    uint64_t count = 0;
    for (unsigned i = 0; i < LT_SHARDS; i++) count += LT_LOAD(shards[i].live_count);
    return count;
}

uint64_t lt_sampled_prefix_bytes(void) {
    uint64_t bytes = 0;
    for (unsigned i = 0; i < LT_SHARDS; i++) bytes += LT_LOAD(shards[i].prefix_bytes);
    return bytes;
}

void lt_visit_patterns(void (*visit)(const lt_patterns *patterns, void *context), void *context) {
    for (unsigned i = 0; i < LT_SHARDS; i++) {
        shard *owner = &shards[i];
        lt_table_acquire(&owner->lock);
        visit(&owner->patterns, context);
        lt_table_release(&owner->lock);
    }
}

// Sums each site's counters over the shards into `out`, indexed by site number; the estimates
// stay in 1/65536 objects until the end. Sites that never had a sample (site 0 when nothing
// overflowed) are dropped.
int lt_read_sites(lt_site *out, int capacity) {
    uint32_t existing = lt_site_count();
    if (existing > (uint32_t)capacity) return (int)existing;
    for (uint32_t number = 0; number < existing; number++) {
        memset(&out[number], 0, sizeof out[number]);
        lt_site_describe(number, &out[number]);
    }
    for (unsigned i = 0; i < LT_SHARDS; i++) {
        shard *owner = &shards[i];
        lt_table_acquire(&owner->lock);
        for (uint32_t number = 0; number < existing; number++) {
            const site_counters *site = counters_of(owner, number);
            if (site == NULL) {
                number |= COUNTER_CHUNK - 1; // the whole chunk is absent
                continue;
            }
            out[number].live_bytes += site->live_bytes;
            out[number].live_objects += site->live_objects_q16;
            out[number].allocated_bytes += site->allocated_bytes;
            out[number].allocated_objects += site->allocated_objects_q16;
        }
        lt_table_release(&owner->lock);
    }
    int written = 0;
    for (uint32_t number = 0; number < existing; number++) {
        lt_site *site = &out[number];
        if (site->allocated_objects == 0) continue;
        site->live_objects = (site->live_objects + (1u << 15)) >> 16;
        site->allocated_objects = (site->allocated_objects + (1u << 15)) >> 16;
        if ((uint32_t)written != number) out[written] = *site;
        written++;
    }
    return written;
}
