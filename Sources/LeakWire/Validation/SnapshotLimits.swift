/// The bounds a Snapshot's fields must keep (docs/PROTOCOL.md, "Validation"). The collector checks
/// every snapshot against them before it stores anything; the defaults are what the Swift
/// collector enforces.
///
/// Why bound at all: every reader (the verdict engine, `collector-cli` text, JSON and pprof) does
/// arithmetic on stored values. A counter near 2^63 or 2^64, an uptime of 1e300 or a timestamp in
/// the year 2262 is no measurement of a real process, yet once stored it was shown as
/// "8192.0 PiB", "last seen in 85962d", or trapped a reader for good (issue 15).
public struct SnapshotLimits: Sendable, Hashable {
    /// Largest byte count or object count any field may carry. Default 2^56 (64 PiB, or 7.2e16
    /// objects): about 500 times the 128 TiB of address space a Linux x86-64 process has, and 128
    /// times below 2^63, so sums and differences of up to 128 stored values never overflow Int64.
    public var maximumCounter: UInt64
    /// Largest `stats.uptime_seconds`. Default 2^32 s (136 years).
    public var maximumUptimeSeconds: Double
    /// How far ahead of the collector's clock a timestamp may be. Default 300 s: NTP keeps hosts
    /// within milliseconds; 5 minutes admits a badly drifting VM clock, not a wrong one. A snapshot
    /// from the future would stay the host's "latest" and outlive retention.
    public var maximumFutureSkewSeconds: Double
    /// Earliest timestamp accepted: 2020-01-01T00:00:00Z. There is no bound relative to the
    /// collector's clock in the past, because late is legitimate (a spool resent after an outage,
    /// `collector-cli simulate` replaying history) and retention removes what is old; this floor
    /// only refuses clocks that were never set (0, 1970, negative).
    public var earliestTimestampUnixNanos: Int64
    /// Longest string (function, file, image, type name, event message), UTF-8 bytes. Default
    /// 16 KiB: a screenful of demangled generic type; longer is no name a person reads.
    public var maximumStringBytes: Int
    /// Most frames in one stack. Default 256; the Swift agent walks at most 48 (LT_MAX_FRAMES).
    public var maximumFramesPerStack: Int

    public init(
        maximumCounter: UInt64 = 1 << 56,
        maximumUptimeSeconds: Double = 4_294_967_296,
        maximumFutureSkewSeconds: Double = 300,
        earliestTimestampUnixNanos: Int64 = 1_577_836_800_000_000_000,
        maximumStringBytes: Int = 16 << 10,
        maximumFramesPerStack: Int = 256
    ) {
        self.maximumCounter = maximumCounter
        self.maximumUptimeSeconds = maximumUptimeSeconds
        self.maximumFutureSkewSeconds = maximumFutureSkewSeconds
        self.earliestTimestampUnixNanos = earliestTimestampUnixNanos
        self.maximumStringBytes = maximumStringBytes
        self.maximumFramesPerStack = maximumFramesPerStack
    }

    public static let `default` = SnapshotLimits()

    /// The earliest timestamp accepted from a process that started at `processStartUnixNanos` (its
    /// Hello's `process_start_unix_nanos`; nil: unknown): the fixed floor, or the process's start less
    /// `maximumFutureSkewSeconds`, whichever is later. The skew is allowed because an agent's clock
    /// may be stepped back after it read its start (NTP correcting a fast clock), and the start is
    /// itself an estimate (/proc's boot time has whole seconds).
    public func earliestTimestampUnixNanos(processStartUnixNanos: Int64?) -> Int64 {
        guard let processStartUnixNanos else { return earliestTimestampUnixNanos }
        let (lessSkew, overflow) = processStartUnixNanos.subtractingReportingOverflow(skewNanos)
        return overflow ? earliestTimestampUnixNanos : max(earliestTimestampUnixNanos, lessSkew)
    }

    /// The latest timestamp accepted when the collector's clock reads `receivedAtUnixNanos`.
    public func latestTimestampUnixNanos(receivedAtUnixNanos: Int64) -> Int64 {
        receivedAtUnixNanos.addingReportingOverflow(skewNanos).overflow ? Int64.max : receivedAtUnixNanos + skewNanos
    }

    private var skewNanos: Int64 { max(0, Int64(exactly: (maximumFutureSkewSeconds * 1e9).rounded(.down)) ?? Int64.max) }
}
