// The process-wide counters (lt_read_stats): every registered thread's own counters folded on
// read, with the totals of threads that have exited, the global peak, and the sample tables'.
#include <string.h>

#include "lt_internal.h"

typedef struct folded_threads {
    uint64_t allocated_bytes, freed_bytes, allocation_count, free_count;
    uint64_t agent_allocated_bytes, agent_freed_bytes, agent_allocation_count;
    int64_t highest_pending_peak;
    uint64_t application_threads;
} folded_threads;

static void fold_thread(const lt_thread *thread, void *context) {
    folded_threads *sum = context;
    uint64_t allocations = LT_LOAD(thread->allocation_count);
    uint64_t allocated = lt_thread_allocated_bytes(thread);
    if (LT_LOAD(thread->flags) & LT_THREAD_AGENT) {
        sum->agent_allocated_bytes += allocated;
        sum->agent_freed_bytes += lt_thread_freed_bytes(thread);
        sum->agent_allocation_count += allocations;
        return;
    }
    sum->application_threads++;
    sum->allocated_bytes += allocated;
    sum->freed_bytes += lt_thread_freed_bytes(thread);
    sum->allocation_count += allocations;
    sum->free_count += LT_LOAD(thread->free_count);
    int64_t pending_peak = LT_LOAD(thread->pending_peak_bytes);
    if (pending_peak > sum->highest_pending_peak) sum->highest_pending_peak = pending_peak;
}

void lt_read_stats(lt_stats *out) {
    memset(out, 0, sizeof *out);
    folded_threads sum = {
        .allocated_bytes = atomic_load(&lt_retired.allocated_bytes),
        .freed_bytes = atomic_load(&lt_retired.freed_bytes),
        .allocation_count = atomic_load(&lt_retired.allocation_count),
        .free_count = atomic_load(&lt_retired.free_count),
        .agent_allocated_bytes = atomic_load(&lt_retired.agent_allocated_bytes),
        .agent_freed_bytes = atomic_load(&lt_retired.agent_freed_bytes),
        .agent_allocation_count = atomic_load(&lt_retired.agent_allocation_count),
    };
    int64_t published = atomic_load(&lt_published_bytes);
    lt_visit_threads(fold_thread, &sum, &out->live_threads, &out->retired_threads);

    // Frees of blocks another thread allocated can briefly make one side run ahead of the other.
    out->total_allocated_bytes = sum.allocated_bytes;
    out->current_bytes = sum.allocated_bytes > sum.freed_bytes ? sum.allocated_bytes - sum.freed_bytes : 0;
    out->allocation_count = sum.allocation_count;
    out->free_count = sum.free_count;
    out->blocks_outstanding = sum.allocation_count > sum.free_count ? sum.allocation_count - sum.free_count : 0;
    out->agent_current_bytes =
        sum.agent_allocated_bytes > sum.agent_freed_bytes ? sum.agent_allocated_bytes - sum.agent_freed_bytes : 0;
    out->agent_allocation_count = sum.agent_allocation_count;

    uint64_t peak = atomic_load(&lt_peak_bytes);
    int64_t unpublished_peak = published + sum.highest_pending_peak;
    if (unpublished_peak > 0 && (uint64_t)unpublished_peak > peak) peak = (uint64_t)unpublished_peak;
    if (out->current_bytes > peak) peak = out->current_bytes;
    out->peak_bytes = peak;
    out->peak_error_bound_bytes = sum.application_threads > 1 ? sum.application_threads * LT_PUBLISH_BYTES : 0;

    out->tracker_mapped_bytes = lt_mapped_bytes() + lt_sampled_prefix_bytes();
    out->sample_mean_bytes = lt_current_sample_mean();
    out->sampled_live_allocations = lt_sampled_live_count();
    out->hooks_active = atomic_load_explicit(&lt_hooks_seen, memory_order_relaxed);
}
