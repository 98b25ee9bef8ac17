import LeakAnalysis
import LeakCLI
import SyntheticSeries

/// One labelled host series in the form an agent sends it (`ReplaySeries`: `t_seconds`, a pid per
/// process instance, sites by name) with its truth, whether it came from the generator or from a
/// recorded CSV directory.
public struct LabelledReplay: Sendable {
    /// What the row tables group by: the generator's kind, or the recorded set's `kind` column.
    public var kind: String
    /// The generator's seed; nil for a recorded series.
    public var seed: UInt64?
    public var isLeak: Bool
    public var series: ReplaySeries
    /// When the leak begins, in `t_seconds` (nil for a series that must stay ok).
    public var leakStartSeconds: Double?
    /// The `site_id`s that leak: the verdict must name exactly these.
    public var leakingSites: Set<String>

    public init(
        kind: String, seed: UInt64?, isLeak: Bool, series: ReplaySeries, leakStartSeconds: Double?, leakingSites: Set<String>
    ) {
        self.kind = kind
        self.seed = seed
        self.isLeak = isLeak
        self.series = series
        self.leakStartSeconds = leakStartSeconds
        self.leakingSites = leakingSites
    }

    public var host: String { series.host }
}

extension LabelledReplay {
    /// A generated series as an agent would send it. `t_seconds` 0 is the whole hour at or before
    /// the first point, so the 10-minute buckets (aligned on the timestamp axis) hold the same
    /// points they hold for the direct analyzer. Each process instance gets a pid of its own; the
    /// uptime of an instance's first row says how long it had been running before it was first seen.
    public init(_ generated: LabelledSeries) {
        let originSeconds = (generated.startSeconds / 3600 - 1).rounded(.down) * 3600
        var pids: [String: UInt32] = [:]
        var rows: [ReplaySeries.Row] = []
        rows.reserveCapacity(generated.points.count)
        for point in generated.points.sorted(by: { $0.timestampSeconds < $1.timestampSeconds }) {
            let pid = pids[point.instanceID] ?? UInt32(1000 + pids.count)
            pids[point.instanceID] = pid
            rows.append(ReplaySeries.Row(
                tSeconds: point.timestampSeconds - originSeconds, heapBytes: point.heapBytes, rssBytes: point.rssBytes,
                allocationCount: point.allocationCount, freeCount: point.freeCount, pid: pid, uptimeSeconds: point.uptimeSeconds))
        }
        var series = ReplaySeries(host: "\(generated.kind.rawValue)-\(generated.seed)", rows: rows)
        for (siteID, points) in generated.sites {
            for point in points {
                series.sites[point.timestampSeconds - originSeconds, default: []].append(
                    ReplaySeries.SiteSample(siteID: Self.siteName(siteID), liveBytes: point.liveBytesEstimate))
            }
        }
        self.init(
            kind: generated.kind.rawValue, seed: generated.seed, isLeak: generated.kind.isLeak, series: series,
            leakStartSeconds: generated.leakStartSeconds.map { $0 - originSeconds },
            leakingSites: Set(generated.leakingSites.map(Self.siteName)))
    }

    /// The `site_id` (the one frame's function name) a generated site is sent as.
    public static func siteName(_ siteID: SiteID) -> String { "site-\(siteID)" }
}
