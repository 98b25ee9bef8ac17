// Allocation patterns: log-spaced size classes (counted on the fast path) and the most frequent
// exact sizes: sizes below LT_EXACT_SIZE_LIMIT counted exactly in a direct per-thread array,
// larger ones estimated from the sampled allocations (exact when T = 1), folded on read.
#include <string.h>

#include "lt_internal.h"

// Sampled large sizes: estimated counts in 1/65536 objects, guarded by the tables lock.
static lt_size_count sampled_large[LT_LARGE_SIZE_SLOTS];

void lt_count_sampled_large_size(size_t size, uint64_t objects_q16) {
    size_t start = (size * 0x9E3779B97F4A7C15ull) >> 56; // 8 bits: LT_LARGE_SIZE_SLOTS
    size_t weakest = start;
    for (size_t probe = 0; probe < 16; probe++) {
        size_t slot = (start + probe) & (LT_LARGE_SIZE_SLOTS - 1);
        if (sampled_large[slot].size == size || sampled_large[slot].count == 0) {
            sampled_large[slot].size = size;
            sampled_large[slot].count += objects_q16;
            return;
        }
        if (sampled_large[slot].count < sampled_large[weakest].count) weakest = slot;
    }
    // Space-saving: the newcomer takes the weakest slot and inherits its count as an upper bound.
    sampled_large[weakest].size = size;
    sampled_large[weakest].count += objects_q16;
}

int lt_read_size_classes(lt_size_class *out, int capacity) {
    uint64_t counts[LT_SIZE_CLASS_COUNT], bytes[LT_SIZE_CLASS_COUNT];
    for (int i = 0; i < LT_SIZE_CLASS_COUNT; i++) {
        counts[i] = atomic_load(&lt_retired.size_class_count[i]);
        bytes[i] = atomic_load(&lt_retired.size_class_bytes[i]);
    }
    lt_registry_lock();
    for (lt_thread *thread = lt_registry_first(); thread; thread = thread->next_in_registry) {
        if (!thread->in_use || (LT_LOAD(thread->flags) & LT_THREAD_AGENT)) continue;
        for (int i = 0; i < LT_SIZE_CLASS_COUNT; i++) {
            counts[i] += LT_LOAD(thread->size_class_count[i]);
            bytes[i] += LT_LOAD(thread->size_class_bytes[i]);
        }
    }
    lt_registry_unlock();
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
    for (int i = 0; i < *filled; i++) {
        if (top[i].size == size) { // a large size seen by several threads
            top[i].count += count;
            while (i > 0 && top[i - 1].count < top[i].count) {
                lt_size_count swap = top[i - 1];
                top[i - 1] = top[i];
                top[i] = swap;
                i--;
            }
            return;
        }
    }
    if (*filled == capacity && top[capacity - 1].count >= count) return;
    int position = *filled < capacity ? (*filled)++ : capacity - 1;
    while (position > 0 && top[position - 1].count < count) {
        top[position] = top[position - 1];
        position--;
    }
    top[position] = (lt_size_count){.size = size, .count = count};
}

int lt_read_top_sizes(lt_size_count *out, int capacity) {
    // Small sizes are summed over threads first, so each is offered once with its true total.
    static uint64_t small[LT_EXACT_SIZE_LIMIT]; // guarded by the registry lock
    int filled = 0;
    lt_registry_lock();
    memset(small, 0, sizeof small);
    for (lt_thread *thread = lt_registry_first(); thread; thread = thread->next_in_registry) {
        if (!thread->in_use || (LT_LOAD(thread->flags) & LT_THREAD_AGENT)) continue;
        for (int size = 0; size < LT_EXACT_SIZE_LIMIT; size++) small[size] += LT_LOAD(thread->exact_size_count[size]);
    }
    for (int size = 0; size < LT_EXACT_SIZE_LIMIT; size++) offer(out, &filled, capacity, (uint64_t)size, small[size]);
    lt_registry_unlock();
    lt_tables_lock();
    for (int slot = 0; slot < LT_LARGE_SIZE_SLOTS; slot++) {
        uint64_t count = (sampled_large[slot].count + (1u << 15)) >> 16;
        if (count) offer(out, &filled, capacity, sampled_large[slot].size, count);
    }
    lt_tables_unlock();
    return filled;
}
