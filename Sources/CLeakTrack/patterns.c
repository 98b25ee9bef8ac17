// Allocation patterns: log-spaced size classes and the most frequent requested sizes, both
// estimated from the sampled allocations (exact when T = 1), counted in each shard of the sample
// table (samples.c) and summed over the shards on read.
#include <pthread.h>
#include <string.h>

#include "lt_internal.h"

static unsigned size_class_of(size_t size) {
    unsigned index = size ? 64u - (unsigned)__builtin_clzl(size) : 0u;
    return index < LT_SIZE_CLASS_COUNT ? index : LT_SIZE_CLASS_COUNT - 1;
}

// A 4-way set-associative space-saving table: a size lives in the 4 slots of one cache line.
static void count_size(lt_size_count *slots, size_t size, uint64_t objects_q16) {
    lt_size_count *set = &slots[((size * 0x9E3779B97F4A7C15ull) >> 56) & (LT_SAMPLED_SIZE_SLOTS - 4)];
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

void lt_count_patterns(lt_patterns *patterns, size_t size, size_t usable, uint64_t objects_q16) {
    count_size(patterns->sizes, size, objects_q16);
    unsigned size_class = size_class_of(usable);
    patterns->class_count_q16[size_class] += objects_q16;
    patterns->class_bytes[size_class] += (uint64_t)(((unsigned __int128)usable * objects_q16) >> 16);
}

typedef struct class_sums {
    uint64_t count_q16[LT_SIZE_CLASS_COUNT];
    uint64_t bytes[LT_SIZE_CLASS_COUNT];
} class_sums;

static void add_classes(const lt_patterns *patterns, void *context) {
    class_sums *sum = context;
    for (int i = 0; i < LT_SIZE_CLASS_COUNT; i++) {
        sum->count_q16[i] += patterns->class_count_q16[i];
        sum->bytes[i] += patterns->class_bytes[i];
    }
}

int lt_read_size_classes(lt_size_class *out, int capacity) {
    class_sums sum;
    memset(&sum, 0, sizeof sum);
    lt_visit_patterns(add_classes, &sum);
    int written = 0;
    for (int i = 0; i < LT_SIZE_CLASS_COUNT && written < capacity; i++) {
        uint64_t count = (sum.count_q16[i] + (1u << 15)) >> 16;
        if (count == 0) continue;
        out[written++] = (lt_size_class){
            .lower_bound_bytes = i == 0 ? 0 : 1ull << (i - 1),
            .upper_bound_bytes = i == 0 ? 0 : (i >= 64 ? UINT64_MAX : (1ull << i) - 1),
            .count = count,
            .bytes = sum.bytes[i],
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

// The shards' sizes summed by size, so that each is offered once with its total: 128 KiB, too
// much for a reader's stack, so one table for all readers under a lock of its own.
#define MERGED_SLOTS_BITS 13
#define MERGED_SLOTS (1u << MERGED_SLOTS_BITS)
_Static_assert(MERGED_SLOTS >= 2 * LT_SHARDS * LT_SAMPLED_SIZE_SLOTS, "the merge table stays at most half full");
static lt_size_count merged[MERGED_SLOTS];
static _Alignas(LT_CACHE_LINE) pthread_mutex_t merged_lock = PTHREAD_MUTEX_INITIALIZER;

void lt_patterns_lock(void) { pthread_mutex_lock(&merged_lock); }
void lt_patterns_unlock(void) { pthread_mutex_unlock(&merged_lock); }
void lt_patterns_reinit_after_fork(void) { pthread_mutex_init(&merged_lock, NULL); }

static void merge_sizes(const lt_patterns *patterns, void *context) {
    (void)context;
    for (int i = 0; i < LT_SAMPLED_SIZE_SLOTS; i++) {
        const lt_size_count *entry = &patterns->sizes[i];
        if (entry->count == 0) continue;
        size_t slot = (entry->size * 0x9E3779B97F4A7C15ull) >> (64 - MERGED_SLOTS_BITS);
        while (merged[slot].count != 0 && merged[slot].size != entry->size) slot = (slot + 1) % MERGED_SLOTS;
        merged[slot].size = entry->size;
        merged[slot].count += entry->count;
    }
}

int lt_read_top_sizes(lt_size_count *out, int capacity) {
    int filled = 0;
    lt_patterns_lock();
    memset(merged, 0, sizeof merged);
    lt_visit_patterns(merge_sizes, NULL);
    for (size_t slot = 0; slot < MERGED_SLOTS; slot++) {
        uint64_t count = (merged[slot].count + (1u << 15)) >> 16;
        if (count) offer(out, &filled, capacity, merged[slot].size, count);
    }
    lt_patterns_unlock();
    return filled;
}
