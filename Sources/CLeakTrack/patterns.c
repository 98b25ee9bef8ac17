// Allocation patterns: log-spaced size classes and the most frequent requested sizes, both
// estimated from the sampled allocations (exact when T = 1) and summed over the sample table's
// shards on read.
#include <string.h>

#include "lt_internal.h"

// A 4-way set-associative space-saving table: a size lives in the 4 slots of one cache line.
void lt_count_sampled_size(lt_sampled_sizes *table, size_t size, uint64_t objects_q16) {
    lt_size_count *set = &table->slots[((size * 0x9E3779B97F4A7C15ull) >> 56) & (LT_SAMPLED_SIZE_SLOTS - 4)];
    lt_size_count *weakest = &set[0];
    for (int way = 0; way < 4; way++) {
        if (set[way].size == size || set[way].count == 0) {
            set[way].size = size;
            set[way].count += objects_q16;
            return;
        }
        if (set[way].count < weakest->count) weakest = &set[way];
    }
    // The newcomer takes the weakest slot and inherits its count as an upper bound.
    weakest->size = size;
    weakest->count += objects_q16;
}

int lt_read_size_classes(lt_size_class *out, int capacity) {
    lt_sampled_classes sum;
    memset(&sum, 0, sizeof sum);
    lt_sum_sampled_classes(&sum);
    uint64_t counts[LT_SIZE_CLASS_COUNT], bytes[LT_SIZE_CLASS_COUNT];
    for (int i = 0; i < LT_SIZE_CLASS_COUNT; i++) {
        counts[i] = (sum.count_q16[i] + (1u << 15)) >> 16;
        bytes[i] = sum.bytes[i];
    }
    int written = 0;
    for (int i = 0; i < LT_SIZE_CLASS_COUNT && written < capacity; i++) {
        if (counts[i] == 0) continue;
        out[written++] = (lt_size_class){
            .lower_bound_bytes = i == 0 ? 0 : 1ull << (i - 1),
            .upper_bound_bytes = i == 0 ? 0 : (i >= 64 ? UINT64_MAX : (1ull << i) - 1),
            .count = counts[i],
            .bytes = bytes[i],
        };
    }
    return written;
}

// Keeps `top` sorted by count, descending, holding at most `capacity` entries.
static void offer(lt_size_count *top, int *filled, int capacity, uint64_t size, uint64_t count) {
    if (count == 0 || capacity == 0) return;
    if (*filled == capacity && top[capacity - 1].count >= count) return;
    int position = *filled < capacity ? (*filled)++ : capacity - 1;
    while (position > 0 && top[position - 1].count < count) {
        top[position] = top[position - 1];
        position--;
    }
    top[position] = (lt_size_count){.size = size, .count = count};
}

// The shards' sizes summed by size, so that each is offered once with its total. Guarded by the
// registry lock, which fork.c already holds across fork.
#define MERGED_SLOTS_BITS 13
#define MERGED_SLOTS (1u << MERGED_SLOTS_BITS)
_Static_assert(MERGED_SLOTS >= 2 * LT_SHARDS * LT_SAMPLED_SIZE_SLOTS, "the merge table stays at most half full");
static lt_size_count merged[MERGED_SLOTS];

static void merge_size(uint64_t size, uint64_t objects_q16, void *context) {
    (void)context;
    size_t slot = (size * 0x9E3779B97F4A7C15ull) >> (64 - MERGED_SLOTS_BITS);
    while (merged[slot].count != 0 && merged[slot].size != size) slot = (slot + 1) % MERGED_SLOTS;
    merged[slot].size = size;
    merged[slot].count += objects_q16;
}

int lt_read_top_sizes(lt_size_count *out, int capacity) {
    int filled = 0;
    lt_registry_lock();
    memset(merged, 0, sizeof merged);
    lt_visit_sampled_sizes(merge_size, NULL);
    for (size_t slot = 0; slot < MERGED_SLOTS; slot++) {
        uint64_t count = (merged[slot].count + (1u << 15)) >> 16;
        if (count) offer(out, &filled, capacity, merged[slot].size, count);
    }
    lt_registry_unlock();
    return filled;
}
