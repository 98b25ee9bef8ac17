// Sampled live allocations, keyed by address, and the per-site counters they feed.
//
// The table is split into LT_SHARDS shards by the pointer's address region (see lt_internal.h),
// each with its own spin lock, its own open-addressing table of live entries and its own counters
// per site. A shard's lock is taken only when an allocation is sampled, a sampled block (or a
// filter false positive) is freed, or a reader sums the shards.
// All memory here is mmap'd: we cannot malloc inside malloc.
// Hazard: fork. fork.c takes every lock across fork so a child never inherits one held.
#include <string.h>
#include <sys/mman.h>

#include "lt_internal.h"

#define INITIAL_LIVE_CAPACITY 1024
#define COUNTER_CHUNK_BITS 8
#define COUNTER_CHUNK (1u << COUNTER_CHUNK_BITS)
#define FILTER_COUNT_PINNED UINT16_MAX

_Alignas(LT_CACHE_LINE) uint64_t lt_filter_bits[(1u << LT_FILTER_SLOT_BITS) / 64];

// Sampled live pointers per filter slot, saturating: a slot whose count reaches the top stays set.
static _Atomic uint16_t filter_counts[1u << LT_FILTER_SLOT_BITS];

typedef struct live_entry {
    uintptr_t pointer; // 0: empty slot
    uint32_t site;
    uint32_t reserved;
    uint64_t weight_bytes;
    uint64_t weight_objects_q16;
} live_entry;

typedef struct site_counters {
    uint64_t live_bytes;
    uint64_t live_objects_q16;
    uint64_t allocated_bytes;
    uint64_t allocated_objects_q16;
} site_counters;

typedef struct shard {
    _Alignas(LT_CACHE_LINE) lt_spin_lock lock;
    live_entry *live;
    size_t live_capacity;
    size_t live_count;
    site_counters *counters[LT_MAX_SITES / COUNTER_CHUNK];
    lt_sampled_sizes sizes;
    lt_sampled_classes classes;
} shard;

static shard shards[LT_SHARDS];

static shard *shard_of(const void *pointer) {
    return &shards[((uintptr_t)pointer >> LT_SHARD_REGION_SHIFT) & (LT_SHARDS - 1)];
}

static void unmap(void *memory, size_t bytes) {
    if (memory == NULL) return;
    munmap(memory, bytes);
    atomic_fetch_sub_explicit(&lt_mapped_bytes, bytes, memory_order_relaxed);
}

static inline size_t mix(uint64_t value) {
    value ^= value >> 33;
    value *= 0xFF51AFD7ED558CCDull;
    value ^= value >> 33;
    return (size_t)value;
}

// --- the free filter ---
//
// Slots are shared between shards (two regions 1 MiB apart share them), so counts and bits change
// with atomics; this is the sampling path, never the fast path. A slot's bit is set by whoever
// raises its count from zero, after raising it; whoever lowers it to zero clears the bit and then
// looks again, setting it back if a new sample arrived in between. So a slot with a live sample
// never ends with its bit clear.

static void set_filter_bit(size_t filter_slot) {
    __atomic_fetch_or(&lt_filter_bits[filter_slot / 64], 1ull << (filter_slot % 64), __ATOMIC_SEQ_CST);
}

static void clear_filter_bit(size_t filter_slot) {
    __atomic_fetch_and(&lt_filter_bits[filter_slot / 64], ~(1ull << (filter_slot % 64)), __ATOMIC_SEQ_CST);
}

static void filter_add(size_t filter_slot) {
    _Atomic uint16_t *count = &filter_counts[filter_slot];
    uint16_t seen = atomic_load(count);
    do {
        if (seen == FILTER_COUNT_PINNED) return;
    } while (!atomic_compare_exchange_weak(count, &seen, (uint16_t)(seen + 1)));
    if (seen == 0) set_filter_bit(filter_slot);
}

static void filter_remove(size_t filter_slot) {
    _Atomic uint16_t *count = &filter_counts[filter_slot];
    uint16_t seen = atomic_load(count);
    do {
        if (seen == FILTER_COUNT_PINNED) return;
    } while (!atomic_compare_exchange_weak(count, &seen, (uint16_t)(seen - 1)));
    if (seen != 1) return;
    clear_filter_bit(filter_slot);
    if (atomic_load(count) != 0) set_filter_bit(filter_slot);
}

void lt_filter_pin(const void *start, size_t bytes) {
    for (size_t offset = 0; offset < bytes; offset += 16) {
        size_t filter_slot = lt_filter_slot((const char *)start + offset);
        atomic_store(&filter_counts[filter_slot], FILTER_COUNT_PINNED);
        set_filter_bit(filter_slot);
    }
}

// --- a shard's live entries: linear probing with backward-shift deletion (no tombstones) ---

static bool grow_live_table(shard *owner) {
    size_t capacity = owner->live_capacity ? owner->live_capacity * 2 : INITIAL_LIVE_CAPACITY;
    live_entry *table = lt_map(capacity * sizeof(live_entry));
    if (table == NULL) return false;
    for (size_t i = 0; i < owner->live_capacity; i++) {
        if (owner->live[i].pointer == 0) continue;
        size_t slot = mix(owner->live[i].pointer) & (capacity - 1);
        while (table[slot].pointer != 0) slot = (slot + 1) & (capacity - 1);
        table[slot] = owner->live[i];
    }
    unmap(owner->live, owner->live_capacity * sizeof(live_entry));
    LT_STORE(owner->live, table);
    LT_STORE(owner->live_capacity, capacity);
    return true;
}

static void remove_live_slot(shard *owner, size_t hole) {
    live_entry *live = owner->live;
    size_t mask = owner->live_capacity - 1;
    size_t slot = hole;
    for (;;) {
        slot = (slot + 1) & mask;
        if (live[slot].pointer == 0) break;
        size_t home = mix(live[slot].pointer) & mask;
        // Move the entry back into the hole unless its home lies cyclically in (hole, slot].
        bool stays = hole <= slot ? (home > hole && home <= slot) : (home > hole || home <= slot);
        if (!stays) {
            live[hole] = live[slot];
            hole = slot;
        }
    }
    live[hole].pointer = 0;
    LT_STORE(owner->live_count, owner->live_count - 1);
}

static site_counters *counters_of(shard *owner, uint32_t site, bool create) {
    site_counters **chunk = &owner->counters[site >> COUNTER_CHUNK_BITS];
    if (*chunk == NULL) {
        if (!create) return NULL;
        *chunk = lt_map(COUNTER_CHUNK * sizeof(site_counters));
        if (*chunk == NULL) return NULL;
    }
    return &(*chunk)[site & (COUNTER_CHUNK - 1)];
}

static void forget(shard *owner, const live_entry *entry) {
    site_counters *site = counters_of(owner, entry->site, false);
    site->live_bytes -= entry->weight_bytes;
    site->live_objects_q16 -= entry->weight_objects_q16;
}

static uint32_t site_of(lt_site_cache *cache, const uintptr_t *frames, int count, const lt_tag *tag) {
    if (tag == NULL && count > 0 && count == cache->frame_count) {
        int same = 0;
        while (same < count && frames[same] == cache->frames[same]) same++;
        if (same == count) return cache->site;
    }
    uint32_t site = lt_site_for_stack(frames, count, tag);
    if (tag == NULL && site != UINT32_MAX) {
        cache->site = site;
        cache->frame_count = count;
        memcpy(cache->frames, frames, (size_t)count * sizeof(uintptr_t));
    }
    return site;
}

// A sampled block of `usable` bytes stands for 1/p blocks of that size (weight_objects_q16 / 65536).
static void count_sampled_class(lt_sampled_classes *classes, size_t usable, uint64_t weight_objects_q16) {
    unsigned size_class = lt_size_class_of(usable);
    classes->count_q16[size_class] += weight_objects_q16;
    classes->bytes[size_class] += (uint64_t)(((unsigned __int128)usable * weight_objects_q16) >> 16);
}

// A racing regrow only makes the prefetch useless, never wrong.
void lt_prefetch_sample(const void *pointer) {
    shard *owner = shard_of(pointer);
    live_entry *table = LT_LOAD(owner->live);
    if (table) __builtin_prefetch(&table[mix((uintptr_t)pointer) & (LT_LOAD(owner->live_capacity) - 1)], 1);
}

void lt_record_sample(lt_thread *self, void *pointer, size_t size, size_t usable, uintptr_t frame_pointer,
                      const lt_tag *tag) {
    // The entry's slot is a likely cache miss: start loading it while the stack is walked.
    lt_prefetch_sample(pointer);
    shard *owner = shard_of(pointer);

    uintptr_t frames[LT_MAX_FRAMES];
    int count = lt_stack_walk(frame_pointer, self->stack_high, frames, LT_MAX_FRAMES);
    uint64_t weight_bytes, weight_objects_q16;
    lt_sample_weight(size, tag ? 1 : lt_current_sample_mean(), &weight_bytes, &weight_objects_q16);
    uint32_t site_number = site_of(&self->last_site, frames, count, tag);
    if (site_number == UINT32_MAX) return;

    lt_spin_acquire(&owner->lock);
    site_counters *site = counters_of(owner, site_number, true);
    if (site == NULL || ((owner->live_count + 1) * 2 > owner->live_capacity && !grow_live_table(owner))) {
        lt_spin_release(&owner->lock);
        return;
    }
    lt_count_sampled_size(&owner->sizes, size, weight_objects_q16);
    count_sampled_class(&owner->classes, usable, weight_objects_q16);
    site->allocated_bytes += weight_bytes;
    site->allocated_objects_q16 += weight_objects_q16;
    site->live_bytes += weight_bytes;
    site->live_objects_q16 += weight_objects_q16;

    live_entry *live = owner->live;
    size_t mask = owner->live_capacity - 1;
    size_t slot = mix((uintptr_t)pointer) & mask;
    while (live[slot].pointer != 0 && live[slot].pointer != (uintptr_t)pointer) slot = (slot + 1) & mask;
    if (live[slot].pointer == 0) {
        LT_STORE(owner->live_count, owner->live_count + 1);
        filter_add(lt_filter_slot(pointer));
    } else {
        forget(owner, &live[slot]); // a stale entry for a reused address: its free bypassed us
    }
    live[slot] = (live_entry){
        .pointer = (uintptr_t)pointer,
        .site = site_number,
        .weight_bytes = weight_bytes,
        .weight_objects_q16 = weight_objects_q16,
    };
    lt_spin_release(&owner->lock);
}

bool lt_retire_sample(void *pointer) {
    shard *owner = shard_of(pointer);
    bool found = false;
    lt_spin_acquire(&owner->lock);
    if (owner->live_capacity != 0) {
        live_entry *live = owner->live;
        size_t mask = owner->live_capacity - 1;
        for (size_t slot = mix((uintptr_t)pointer) & mask; live[slot].pointer != 0; slot = (slot + 1) & mask) {
            if (live[slot].pointer != (uintptr_t)pointer) continue;
            forget(owner, &live[slot]);
            filter_remove(lt_filter_slot(pointer));
            remove_live_slot(owner, slot);
            found = true;
            break;
        }
    }
    lt_spin_release(&owner->lock);
    return found;
}

// --- readers and fork ---

void lt_tables_lock(void) {
    lt_sites_lock();
    for (unsigned i = 0; i < LT_SHARDS; i++) lt_spin_acquire(&shards[i].lock);
}

void lt_tables_unlock(void) {
    for (unsigned i = LT_SHARDS; i-- > 0;) lt_spin_release(&shards[i].lock);
    lt_sites_unlock();
}

void lt_tables_reinit_after_fork(void) {
    for (unsigned i = 0; i < LT_SHARDS; i++) atomic_store_explicit(&shards[i].lock, 0, memory_order_relaxed);
    lt_sites_reinit_after_fork();
}

uint64_t lt_sampled_live_count(void) {
    uint64_t count = 0;
    for (unsigned i = 0; i < LT_SHARDS; i++) count += LT_LOAD(shards[i].live_count);
    return count;
}

void lt_sum_sampled_classes(lt_sampled_classes *sum) {
    for (unsigned i = 0; i < LT_SHARDS; i++) {
        shard *owner = &shards[i];
        lt_spin_acquire(&owner->lock);
        for (int size_class = 0; size_class < LT_SIZE_CLASS_COUNT; size_class++) {
            sum->count_q16[size_class] += owner->classes.count_q16[size_class];
            sum->bytes[size_class] += owner->classes.bytes[size_class];
        }
        lt_spin_release(&owner->lock);
    }
}

void lt_visit_sampled_sizes(void (*visit)(uint64_t size, uint64_t objects_q16, void *context), void *context) {
    for (unsigned i = 0; i < LT_SHARDS; i++) {
        shard *owner = &shards[i];
        lt_spin_acquire(&owner->lock);
        for (int slot = 0; slot < LT_SAMPLED_SIZE_SLOTS; slot++) {
            const lt_size_count *entry = &owner->sizes.slots[slot];
            if (entry->count) visit(entry->size, entry->count, context);
        }
        lt_spin_release(&owner->lock);
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
        lt_spin_acquire(&owner->lock);
        for (uint32_t number = 0; number < existing; number++) {
            const site_counters *site = counters_of(owner, number, false);
            if (site == NULL) {
                number |= COUNTER_CHUNK - 1; // the whole chunk is absent
                continue;
            }
            out[number].live_bytes += site->live_bytes;
            out[number].live_objects += site->live_objects_q16;
            out[number].allocated_bytes += site->allocated_bytes;
            out[number].allocated_objects += site->allocated_objects_q16;
        }
        lt_spin_release(&owner->lock);
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
