/// One point of a host's series: a raw snapshot, or a rollup bucket (then `bytesInUse` is the
/// bucket's floor, its minimum, which is what trend analysis wants).
public struct HostSeriesPoint: Sendable, Equatable {
    public var timestampMs: Int64
    public var instanceId: Int64
    public var bytesInUse: Int64
    public var bytesInUseMax: Int64
    public var residentBytes: Int64
    public var allocationCount: Int64
    public var freeCount: Int64
    public var uptimeSeconds: Double
    /// Snapshots this point stands for (1 for a raw snapshot).
    public var pointCount: Int64
}

/// One point of one site's series.
public struct SiteSeriesPoint: Sendable, Equatable {
    public var timestampMs: Int64
    public var instanceId: Int64
    public var liveBytes: Int64
    public var liveObjects: Int64
    public var allocatedBytes: Int64
}

/// A host's data over a time window, as the report and the verdict engine need it.
public struct HostWindow: Sendable {
    public var host: HostRecord
    public var fromMs: Int64
    public var toMs: Int64
    public var points: [HostSeriesPoint]
    /// Per stack id, in time order.
    public var sites: [Int64: [SiteSeriesPoint]]
    /// Instance id -> process_instance_id (hex), for restarts.
    public var instanceKeys: [Int64: String]
}
