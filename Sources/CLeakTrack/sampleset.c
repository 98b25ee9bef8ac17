// The records of sampled live blocks, keyed by pointer, used only when records cannot sit in front
// of the blocks (another allocator than glibc, or the hooks not linked: see lt_internal.h). A free
// filter in front answers most frees with one load; the set behind it is exact, so a filter false
// positive costs a lookup, never a wrong answer.
//
// All memory here is mapped (map.c): we cannot malloc inside malloc.
// Hazard: fork. fork.c takes every lock across fork so a child never inherits one held.
#include "lt_internal.h"

#define INITIAL_CAPACITY 1024
#define REGION_SHIFT 26 // 64 MiB address regions choose the shard
#define FILTER_COUNT_PINNED UINT16_MAX

_Alignas(LT_CACHE_LINE) uint64_t lt_filter_bits[(1u << LT_FILTER_SLOT_BITS) / 64];

// Sampled live pointers per filter slot, saturating: a slot whose count reaches the top stays set.
static _Atomic uint16_t filter_counts[1u << LT_FILTER_SLOT_BITS];

typedef struct set_entry {
    uintptr_t pointer; // 0: empty
    lt_sample_record record;
} set_entry;

/// Open addressing with linear probing and backward-shift deletion (no tombstones).
typedef struct set_shard {
    _Alignas(LT_CACHE_LINE) lt_spin_lock lock;
    set_entry *slots;
    size_t capacity;
    size_t count;
} set_shard;

static set_shard shards[LT_SHARDS];

static set_shard *shard_of(const void *pointer) {
    return &shards[((uintptr_t)pointer >> REGION_SHIFT) & (LT_SHARDS - 1)];
}

static inline size_t mix(uint64_t value) {
    value ^= value >> 33;
    value *= 0xFF51AFD7ED558CCDull;
    value ^= value >> 33;
    return (size_t)value;
}

// --- the filter ---
//
// A slot is the pointer's 16-byte granule modulo 1 MiB. Slots are shared between shards, so counts
// and bits change with atomics. A slot's bit is set by whoever raises its count from zero, after
// raising it; whoever lowers it to zero clears the bit and then looks again, setting it back if a
// new sample arrived in between. So a slot with a live sample never ends with its bit clear.

static size_t filter_slot(const void *pointer) {
    return ((uintptr_t)pointer >> 4) & ((1u << LT_FILTER_SLOT_BITS) - 1);
}

static void set_filter_bit(size_t slot) {
    __atomic_fetch_or(&lt_filter_bits[slot / 64], 1ull << (slot % 64), __ATOMIC_SEQ_CST);
}

static void clear_filter_bit(size_t slot) {
    __atomic_fetch_and(&lt_filter_bits[slot / 64], ~(1ull << (slot % 64)), __ATOMIC_SEQ_CST);
}

static void filter_add(size_t slot) {
    _Atomic uint16_t *count = &filter_counts[slot];
    uint16_t seen = atomic_load(count);
    do {
        if (seen == FILTER_COUNT_PINNED) return;
    } while (!atomic_compare_exchange_weak(count, &seen, (uint16_t)(seen + 1)));
    if (seen == 0) set_filter_bit(slot);
}

static void filter_remove(size_t slot) {
    _Atomic uint16_t *count = &filter_counts[slot];
    uint16_t seen = atomic_load(count);
    do {
        if (seen == FILTER_COUNT_PINNED) return;
    } while (!atomic_compare_exchange_weak(count, &seen, (uint16_t)(seen - 1)));
    if (seen != 1) return;
    clear_filter_bit(slot);
    if (atomic_load(count) != 0) set_filter_bit(slot);
}

// --- the exact set ---

static bool grow(set_shard *owner) {
    size_t capacity = owner->capacity ? owner->capacity * 2 : INITIAL_CAPACITY;
    set_entry *slots = lt_map(capacity * sizeof(set_entry));
    if (slots == NULL) return false;
    for (size_t i = 0; i < owner->capacity; i++) {
        if (owner->slots[i].pointer == 0) continue;
        size_t slot = mix(owner->slots[i].pointer) & (capacity - 1);
        while (slots[slot].pointer != 0) slot = (slot + 1) & (capacity - 1);
        slots[slot] = owner->slots[i];
    }
    if (owner->slots) lt_unmap(owner->slots, owner->capacity * sizeof(set_entry));
    owner->slots = slots;
    owner->capacity = capacity;
    return true;
}

/// The slot holding `pointer`, or the empty slot where it would go. Hold the lock; capacity > 0.
static size_t find(const set_shard *owner, uintptr_t pointer) {
    size_t mask = owner->capacity - 1;
    size_t slot = mix(pointer) & mask;
    while (owner->slots[slot].pointer != 0 && owner->slots[slot].pointer != pointer) slot = (slot + 1) & mask;
    return slot;
}

static void remove_slot(set_shard *owner, size_t hole) {
    size_t mask = owner->capacity - 1;
    size_t slot = hole;
    for (;;) {
        slot = (slot + 1) & mask;
        if (owner->slots[slot].pointer == 0) break;
        size_t home = mix(owner->slots[slot].pointer) & mask;
        // Move the entry back into the hole unless its home lies cyclically in (hole, slot].
        bool stays = hole <= slot ? (home > hole && home <= slot) : (home > hole || home <= slot);
        if (!stays) {
            owner->slots[hole] = owner->slots[slot];
            hole = slot;
        }
    }
    owner->slots[hole].pointer = 0;
    owner->count--;
}

bool lt_sample_set_add(const void *pointer, const lt_sample_record *record) {
    set_shard *owner = shard_of(pointer);
    lt_table_acquire(&owner->lock);
    bool added = (owner->count + 1) * 2 <= owner->capacity || grow(owner);
    if (added) {
        set_entry *entry = &owner->slots[find(owner, (uintptr_t)pointer)];
        if (entry->pointer == 0) {
            owner->count++;
            filter_add(filter_slot(pointer));
        }
        *entry = (set_entry){.pointer = (uintptr_t)pointer, .record = *record};
    }
    lt_table_release(&owner->lock);
    return added;
}

bool lt_sample_set_remove(const void *pointer, lt_sample_record *out) {
    set_shard *owner = shard_of(pointer);
    bool removed = false;
    lt_table_acquire(&owner->lock);
    if (owner->capacity != 0) {
        size_t slot = find(owner, (uintptr_t)pointer);
        if (owner->slots[slot].pointer != 0) {
            *out = owner->slots[slot].record;
            remove_slot(owner, slot);
            filter_remove(filter_slot(pointer));
            removed = true;
        }
    }
    lt_table_release(&owner->lock);
    return removed;
}

void lt_sample_set_lock(void) {
    for (unsigned i = 0; i < LT_SHARDS; i++) lt_spin_acquire(&shards[i].lock);
}

void lt_sample_set_unlock(void) {
    for (unsigned i = LT_SHARDS; i-- > 0;) lt_spin_release(&shards[i].lock);
}

void lt_sample_set_reinit_after_fork(void) {
    for (unsigned i = 0; i < LT_SHARDS; i++) atomic_store_explicit(&shards[i].lock, 0, memory_order_relaxed);
}
