/// Identifier of an allocation site: the collector's interned stack id.
public typealias SiteID = UInt64

/// One host snapshot, as the collector stores it.
///
/// Only `timestampSeconds` orders points: the engine never reads the wall clock, so replaying a
/// series at any speed gives the verdicts it gave in real time.
public struct HostPoint: Sendable, Hashable {
    /// Snapshot time (seconds since the Unix epoch, as sent by the agent).
    public var timestampSeconds: Double
    /// Bytes in use by the process heap at the snapshot.
    public var heapBytes: UInt64
    /// Resident set size (informational; verdicts use the heap).
    public var rssBytes: UInt64
    /// Allocations since process start (the traffic signal is its rate).
    public var allocationCount: UInt64
    /// Frees since process start.
    public var freeCount: UInt64
    /// Identifies the process instance: a new value is a restart.
    public var instanceID: String
    /// Process uptime at the snapshot, if known. Lets the engine place the grace period after a
    /// start that happened before the first point it is given; without it the first point of an
    /// instance is taken as its start.
    public var uptimeSeconds: Double?

    public init(
        timestampSeconds: Double, heapBytes: UInt64, rssBytes: UInt64, allocationCount: UInt64,
        freeCount: UInt64, instanceID: String, uptimeSeconds: Double? = nil
    ) {
        self.timestampSeconds = timestampSeconds
        self.heapBytes = heapBytes
        self.rssBytes = rssBytes
        self.allocationCount = allocationCount
        self.freeCount = freeCount
        self.instanceID = instanceID
        self.uptimeSeconds = uptimeSeconds
    }
}

/// One allocation site's sampled live bytes at a snapshot.
public struct SitePoint: Sendable, Hashable {
    public var timestampSeconds: Double
    /// Unbiased estimate of the bytes still live that were allocated at this site.
    public var liveBytesEstimate: UInt64

    public init(timestampSeconds: Double, liveBytesEstimate: UInt64) {
        self.timestampSeconds = timestampSeconds
        self.liveBytesEstimate = liveBytesEstimate
    }
}
