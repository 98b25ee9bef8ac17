// Sampled live allocations, keyed by address, and the sites (distinct stacks) they belong to.
//
// Both tables live in mmap'd memory (we cannot malloc inside malloc) behind one lock, taken only
// when an allocation is sampled, a sampled block is freed, or a reader copies the sites out.
// Hazard: fork. fork.c holds this lock across fork so a child never inherits it held.
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "lt_internal.h"

#define INITIAL_LIVE_CAPACITY 4096
#define INITIAL_SITE_CAPACITY 1024
#define MAX_SITES (1u << 16)

uint8_t lt_filter[1u << LT_FILTER_BITS];

typedef struct live_entry {
    uintptr_t pointer; // 0: empty slot
    uint32_t site;
    uint32_t reserved;
    uint64_t weight_bytes;
    uint64_t weight_objects_q16;
} live_entry;

typedef struct site_record {
    uint64_t hash;
    uint64_t live_bytes;
    uint64_t live_objects_q16;
    uint64_t allocated_bytes;
    uint64_t allocated_objects_q16;
    lt_tag tag;
    int32_t frame_count;
    uintptr_t frames[LT_MAX_FRAMES];
} site_record;

// A spin lock, not a mutex: its critical sections are a few dozen instructions, and with a small
// sample mean several threads take it per allocation, where a futex round trip costs far more
// than the section itself.
static _Alignas(LT_CACHE_LINE) _Atomic int tables_lock;

static live_entry *live;
static size_t live_capacity, live_count;

static site_record *sites;
static uint32_t *site_index; // open addressing over hashes: site number + 1, 0 for empty
static size_t site_capacity, site_count;

void lt_tables_lock(void) {
    for (unsigned spins = 0;; spins++) {
        if (!atomic_load_explicit(&tables_lock, memory_order_relaxed) &&
            !atomic_exchange_explicit(&tables_lock, 1, memory_order_acquire)) {
            return;
        }
        if (spins < 64) {
            __builtin_ia32_pause();
        } else {
            sched_yield(); // the holder was descheduled
        }
    }
}

void lt_tables_unlock(void) { atomic_store_explicit(&tables_lock, 0, memory_order_release); }
void lt_tables_reinit_after_fork(void) { atomic_store_explicit(&tables_lock, 0, memory_order_relaxed); }

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

// --- live table: linear probing with backward-shift deletion (no tombstones) ---

static bool grow_live_table(void) {
    size_t capacity = live_capacity ? live_capacity * 2 : INITIAL_LIVE_CAPACITY;
    live_entry *table = lt_map(capacity * sizeof(live_entry));
    if (table == NULL) return false;
    for (size_t i = 0; i < live_capacity; i++) {
        if (live[i].pointer == 0) continue;
        size_t slot = mix(live[i].pointer) & (capacity - 1);
        while (table[slot].pointer != 0) slot = (slot + 1) & (capacity - 1);
        table[slot] = live[i];
    }
    unmap(live, live_capacity * sizeof(live_entry));
    live = table;
    live_capacity = capacity;
    return true;
}

static void remove_live_slot(size_t hole) {
    size_t mask = live_capacity - 1;
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
    live_count--;
}

// --- sites ---

static uint64_t hash_stack(const uintptr_t *frames, int count, const lt_tag *tag) {
    uint64_t hash = 0xCBF29CE484222325ull;
    for (int i = 0; i < count; i++) hash = (hash ^ frames[i]) * 0x100000001B3ull;
    if (tag) {
        hash = (hash ^ (uintptr_t)tag->file) * 0x100000001B3ull;
        hash = (hash ^ (uintptr_t)tag->function) * 0x100000001B3ull;
        hash = (hash ^ (uint64_t)tag->line) * 0x100000001B3ull;
    }
    return hash ? hash : 1;
}

static bool same_stack(const site_record *site, uint64_t hash, const uintptr_t *frames, int count, const lt_tag *tag) {
    if (site->hash != hash || site->frame_count != count) return false;
    if (memcmp(site->frames, frames, (size_t)count * sizeof(uintptr_t)) != 0) return false;
    if (tag == NULL) return site->tag.file == NULL && site->tag.function == NULL;
    return site->tag.file == tag->file && site->tag.function == tag->function && site->tag.line == tag->line;
}

static bool grow_sites(void) {
    size_t capacity = site_capacity ? site_capacity * 2 : INITIAL_SITE_CAPACITY;
    site_record *records = lt_map(capacity * sizeof(site_record));
    uint32_t *index = lt_map(capacity * 2 * sizeof(uint32_t));
    if (records == NULL || index == NULL) {
        unmap(records, capacity * sizeof(site_record));
        unmap(index, capacity * 2 * sizeof(uint32_t));
        return false;
    }
    if (site_count) memcpy(records, sites, site_count * sizeof(site_record));
    for (size_t i = 0; i < site_count; i++) {
        size_t slot = mix(records[i].hash) & (capacity * 2 - 1);
        while (index[slot] != 0) slot = (slot + 1) & (capacity * 2 - 1);
        index[slot] = (uint32_t)i + 1;
    }
    unmap(sites, site_capacity * sizeof(site_record));
    unmap(site_index, site_capacity * 2 * sizeof(uint32_t));
    sites = records;
    site_index = index;
    site_capacity = capacity;
    return true;
}

// Returns the site for a stack, creating it; past MAX_SITES new stacks share site 0, which
// reports them as one site with an empty stack.
static uint32_t find_or_add_site(const uintptr_t *frames, int count, const lt_tag *tag) {
    if (site_count == 0) {
        if (!grow_sites()) return UINT32_MAX;
        memset(&sites[0], 0, sizeof sites[0]);
        sites[0].hash = 0; // the overflow site, never found by hash
        site_count = 1;
    }
    uint64_t hash = hash_stack(frames, count, tag);
    size_t mask = site_capacity * 2 - 1;
    size_t slot = mix(hash) & mask;
    for (; site_index[slot] != 0; slot = (slot + 1) & mask) {
        uint32_t candidate = site_index[slot] - 1;
        if (same_stack(&sites[candidate], hash, frames, count, tag)) return candidate;
    }
    if (site_count >= MAX_SITES) return 0;
    if (site_count + 1 > site_capacity) {
        if (!grow_sites()) return 0;
        return find_or_add_site(frames, count, tag);
    }
    uint32_t number = (uint32_t)site_count++;
    site_record *site = &sites[number];
    memset(site, 0, sizeof *site);
    site->hash = hash;
    site->frame_count = count;
    memcpy(site->frames, frames, (size_t)count * sizeof(uintptr_t));
    if (tag) site->tag = *tag;
    site_index[slot] = number + 1;
    return number;
}

void lt_record_sample(void *pointer, size_t size, uintptr_t frame_pointer, uintptr_t stack_high, const lt_tag *tag) {
    uintptr_t frames[LT_MAX_FRAMES];
    int count = lt_stack_walk(frame_pointer, stack_high, frames, LT_MAX_FRAMES);
    uint64_t weight_bytes, weight_objects_q16;
    lt_sample_weight(size, tag ? 1 : lt_sample_mean_bytes(), &weight_bytes, &weight_objects_q16);

    lt_tables_lock();
    uint32_t site_number = find_or_add_site(frames, count, tag);
    if (site_number == UINT32_MAX || ((live_count + 1) * 2 > live_capacity && !grow_live_table())) {
        lt_tables_unlock();
        return;
    }
    if (size >= LT_EXACT_SIZE_LIMIT && tag == NULL) lt_count_sampled_large_size(size, weight_objects_q16);
    site_record *site = &sites[site_number];
    site->allocated_bytes += weight_bytes;
    site->allocated_objects_q16 += weight_objects_q16;
    site->live_bytes += weight_bytes;
    site->live_objects_q16 += weight_objects_q16;

    size_t mask = live_capacity - 1;
    size_t slot = mix((uintptr_t)pointer) & mask;
    while (live[slot].pointer != 0 && live[slot].pointer != (uintptr_t)pointer) slot = (slot + 1) & mask;
    if (live[slot].pointer == 0) {
        live_count++;
        size_t filter_slot = lt_filter_slot(pointer);
        if (lt_filter[filter_slot] < 255) LT_STORE(lt_filter[filter_slot], lt_filter[filter_slot] + 1);
    } else {
        // A stale entry for a reused address (its free bypassed us): retire it first.
        site_record *stale = &sites[live[slot].site];
        stale->live_bytes -= live[slot].weight_bytes;
        stale->live_objects_q16 -= live[slot].weight_objects_q16;
    }
    live[slot] = (live_entry){
        .pointer = (uintptr_t)pointer,
        .site = site_number,
        .weight_bytes = weight_bytes,
        .weight_objects_q16 = weight_objects_q16,
    };
    lt_tables_unlock();
}

bool lt_retire_sample(void *pointer) {
    bool found = false;
    lt_tables_lock();
    if (live_capacity != 0) {
        size_t mask = live_capacity - 1;
        for (size_t slot = mix((uintptr_t)pointer) & mask; live[slot].pointer != 0; slot = (slot + 1) & mask) {
            if (live[slot].pointer != (uintptr_t)pointer) continue;
            site_record *site = &sites[live[slot].site];
            site->live_bytes -= live[slot].weight_bytes;
            site->live_objects_q16 -= live[slot].weight_objects_q16;
            size_t filter_slot = lt_filter_slot(pointer);
            if (lt_filter[filter_slot] < 255) LT_STORE(lt_filter[filter_slot], lt_filter[filter_slot] - 1);
            remove_live_slot(slot);
            found = true;
            break;
        }
    }
    lt_tables_unlock();
    return found;
}

uint64_t lt_sampled_live_count(void) {
    lt_tables_lock();
    uint64_t count = live_count;
    lt_tables_unlock();
    return count;
}

int lt_read_sites(lt_site *out, int capacity) {
    lt_tables_lock();
    int written = 0;
    int existing = 0;
    for (size_t i = 0; i < site_count; i++) {
        const site_record *site = &sites[i];
        if (site->allocated_objects_q16 == 0) continue;
        existing++;
        if (written >= capacity) continue;
        lt_site *copy = &out[written++];
        memset(copy, 0, sizeof *copy);
        copy->stack_id = site->hash;
        copy->live_bytes = site->live_bytes;
        copy->live_objects = (site->live_objects_q16 + (1u << 15)) >> 16;
        copy->allocated_bytes = site->allocated_bytes;
        copy->allocated_objects = (site->allocated_objects_q16 + (1u << 15)) >> 16;
        copy->tag_file = site->tag.file;
        copy->tag_function = site->tag.function;
        copy->tag_line = site->tag.line;
        copy->frame_count = site->frame_count;
        memcpy(copy->frames, site->frames, (size_t)site->frame_count * sizeof(uintptr_t));
    }
    lt_tables_unlock();
    return existing;
}
