import CLeakTrackAPI

/// The process's heap counters, folded from every thread's own counters at the moment of reading.
///
/// Bytes are the allocator's usable size of each block (what `malloc_usable_size` reports for the
/// allocator the process would have used without the agent): the memory a block really holds.
public struct HeapStats: Sendable, Equatable {
    public var totalAllocatedBytes: UInt64
    public var currentBytes: UInt64
    public var peakBytes: UInt64
    public var allocationCount: UInt64
    public var freeCount: UInt64
    public var blocksOutstanding: UInt64
    /// Heap bytes held by the agent's own threads (shipper, symbolizer): never part of the above.
    public var agentHeapBytes: UInt64
    /// Memory the C core holds for itself: its own tables (mapped outside malloc) and the records in
    /// front of live sampled blocks.
    public var trackerMappedBytes: UInt64
    public var sampleMeanBytes: UInt64
    public var liveThreads: UInt64
    public var retiredThreads: UInt64
    public var sampledLiveAllocations: UInt64
    /// Upper bound on the difference between `peakBytes` and the true peak (live threads x 16 KiB
    /// when several threads allocate; exact with one).
    public var peakErrorBoundBytes: UInt64
    /// Whether the malloc-family interposer (LeakAgentHooks or the preload library) is active.
    public var hooksActive: Bool

    public static func read() -> HeapStats {
        var raw = lt_stats()
        lt_read_stats(&raw)
        return HeapStats(
            totalAllocatedBytes: raw.total_allocated_bytes,
            currentBytes: raw.current_bytes,
            peakBytes: raw.peak_bytes,
            allocationCount: raw.allocation_count,
            freeCount: raw.free_count,
            blocksOutstanding: raw.blocks_outstanding,
            agentHeapBytes: raw.agent_current_bytes,
            trackerMappedBytes: raw.tracker_mapped_bytes,
            sampleMeanBytes: raw.sample_mean_bytes,
            liveThreads: raw.live_threads,
            retiredThreads: raw.retired_threads,
            sampledLiveAllocations: raw.sampled_live_allocations,
            peakErrorBoundBytes: raw.peak_error_bound_bytes,
            hooksActive: raw.hooks_active != 0
        )
    }
}
