import CLeakTrackAPI

/// The agent's entry point: read the heap counters, allocation patterns and sites of this process,
/// and start the background monitor and shipper.
///
/// Counting needs the malloc-family interposer, which linking `LeakAgentHooks` (or preloading
/// `libLeakAgentPreload.so`) installs. Without it every call here still works and
/// `hooksInstalled` says false.
public enum LeakAgent {
    public static var hooksInstalled: Bool { HeapStats.read().hooksActive }

    public static func stats() -> HeapStats { .read() }

    public static func patterns(topSizeLimit: Int = 16) -> AllocationPatterns { .read(topSizeLimit: topSizeLimit) }

    public static func sites() -> [AllocationSite] { AllocationSite.read() }

    public static func leakReport(siteLimit: Int = 50) -> LeakReport { .capture(siteLimit: siteLimit) }

    /// Mean bytes between sampled allocations (T): 0 records no stacks, 1 records every allocation.
    public static var sampleMeanBytes: UInt64 {
        get { lt_sample_mean_bytes() }
        set { lt_set_sample_mean_bytes(newValue) }
    }
}
