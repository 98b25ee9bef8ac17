/// How the store keeps data. Defaults are what `collector` uses without a configuration file.
public struct StoreConfiguration: Sendable, Equatable, Codable {
    /// Raw snapshots are kept this long (by snapshot timestamp), then folded into 1-minute buckets.
    public var rawRetentionSeconds: Int64 = 48 * 3600
    /// 1-minute buckets are kept this long, then folded into 1-hour buckets.
    public var minuteRetentionSeconds: Int64 = 14 * 24 * 3600
    /// 1-hour buckets, events and verdicts are kept this long, then deleted.
    public var hourRetentionSeconds: Int64 = 400 * 24 * 3600
    /// `PRAGMA synchronous=FULL` survives power loss; the default NORMAL survives a crash of the
    /// collector process (kill -9), which is what acknowledgements promise.
    public var synchronousFull: Bool = false

    public init() {}
}
