import LeakAnalysis
import LeakCLI

/// The analyzer called directly on the rows a `LabelledReplay` sends, judged at the same moments
/// as `CollectorReplay` (the direct mode's way: bucketed once, a prefix per moment): what the
/// collector path is compared with, so a difference between the two paths shows where it arises.
public struct AnalyzerReplay: Sendable {
    public var configuration: VerdictConfiguration

    public init(configuration: VerdictConfiguration) {
        self.configuration = configuration
    }

    /// The status at each of `times` (`t_seconds`), on the rows before it.
    public func statuses(_ replay: LabelledReplay, at times: [Double]) -> [String] {
        let series = replay.series
        let stackIDs = ReplaySeries.stackIDs([series])
        var points: [HostPoint] = []
        var sites: [SiteID: [SitePoint]] = [:]
        var instance = (pid: UInt32?.none, ordinal: 0, startSeconds: 0.0)
        for row in series.rows {
            if row.pid != instance.pid {
                instance = (row.pid, instance.pid == nil ? 0 : instance.ordinal + 1, row.tSeconds - (row.uptimeSeconds ?? 0))
            }
            // `t_seconds` 0 is on a whole hour of the wall clock, so the buckets are the collector's.
            points.append(HostPoint(
                timestampSeconds: row.tSeconds, heapBytes: row.heapBytes, rssBytes: row.rssBytes, allocationCount: row.allocationCount,
                freeCount: row.freeCount, instanceID: "\(instance.ordinal)", uptimeSeconds: row.tSeconds - instance.startSeconds))
            for sample in series.sites[row.tSeconds] ?? [] {
                guard let stackID = stackIDs[sample.siteID] else { continue }
                sites[SiteID(stackID), default: []].append(SitePoint(timestampSeconds: row.tSeconds, liveBytesEstimate: sample.liveBytes))
            }
        }
        let analyzer = LeakAnalyzer(configuration: configuration)
        let hostSeries = HostSeries(points: points, sites: sites, configuration: configuration)
        return times.map { t in
            let verdict = analyzer.evaluate(hostSeries.prefix(endingBeforeSeconds: t, configuration: configuration))
            // What `VerdictEvaluator` stores for a window on which no trend test could run.
            return verdict.evaluatedAtSeconds == nil || verdict.isInsufficientData ? "notEnoughData" : verdict.status.description
        }
    }
}
