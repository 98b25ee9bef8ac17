/// What the fleet gauges say of one host: its newest verdict and its newest raw snapshot.
public struct HostGaugeRow: Sendable, Equatable {
    public var name: String
    public var serviceName: String
    public var lastSeenMs: Int64
    /// The newest verdict's status and rate; nil before the first verdict.
    public var status: String?
    public var rateBytesPerHour: Double?
    /// The newest raw snapshot's bytes in use; nil once only rollups are left.
    public var heapBytes: Int64?
}
