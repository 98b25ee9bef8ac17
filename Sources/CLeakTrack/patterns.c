// Allocation patterns: log-spaced size classes (counted on the fast path) and the most frequent
// exact sizes (small sizes in a direct per-thread array, larger ones in a small per-thread
// space-saving table), all folded on read.
#include <string.h>

#include "lt_internal.h"

void lt_count_large_size(lt_thread *self, size_t size) {
    lt_size_count *table = self->large_sizes;
    size_t start = (size * 0x9E3779B97F4A7C15ull) >> 58; // 6 bits: LT_LARGE_SIZE_SLOTS
    size_t weakest = start;
    for (size_t probe = 0; probe < 8; probe++) {
        size_t slot = (start + probe) & (LT_LARGE_SIZE_SLOTS - 1);
        if (table[slot].size == size || table[slot].count == 0) {
            LT_STORE(table[slot].size, size);
            LT_BUMP(table[slot].count, 1);
            return;
        }
        if (table[slot].count < table[weakest].count) weakest = slot;
    }
    // Space-saving: the newcomer takes the weakest slot and inherits its count as an upper bound.
    LT_STORE(table[weakest].size, size);
    LT_BUMP(table[weakest].count, 1);
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
    for (lt_thread *thread = lt_registry_first(); thread; thread = thread->next_in_registry) {
        if (!thread->in_use || (LT_LOAD(thread->flags) & LT_THREAD_AGENT)) continue;
        for (int slot = 0; slot < LT_LARGE_SIZE_SLOTS; slot++) {
            offer(out, &filled, capacity, LT_LOAD(thread->large_sizes[slot].size),
                  LT_LOAD(thread->large_sizes[slot].count));
        }
    }
    lt_registry_unlock();
    return filled;
}
