import Foundation
import LeakAnalysis
import LeakCLI
import LeakCollector
import SyntheticSeries
import Testing
import VerdictReplay

/// The published verdict figures come from the collector path (`VerdictEvaluation --path
/// collector`); tuning uses the analyzer called directly. This holds the two together: a series
/// sent over the agent protocol, stored, and judged by the collector's verdict pass (on the buckets
/// it keeps between passes) ends with the status the analyzer gives on every point up to the same
/// moment, with the configuration the collector runs.
///
/// The one thing the product path may change on the way: a host first seen by a running collector
/// with more than 48 h already stored (after a collector restart) is read with six site points per
/// 10-minute bucket (`MaintenanceService.maximumSiteRows`); every later pass reads every point.
@Suite("Verdicts end to end agree with the analyzer on the same data")
struct CollectorPathAgreementTests {
    /// Kinds that exercise different parts of the path: one connection and a site leak, restarts
    /// (a connection per instance), a site masked by another, and a series that must stay ok.
    /// Cut to 14 h so the test stays short in debug; the 3 h to 12 h windows already apply.
    static let cases: [(SeriesKind, UInt64)] = [(.slowLeak, 1001), (.restartResetLeak, 1001), (.maskedSiteLeak, 1002), (.sawtooth, 1001)]

    @Test("every stored status, and the sites named at the end, equal the analyzer's", arguments: cases)
    func statusesAgree(kind: SeriesKind, seed: UInt64) async throws {
        let generated = Self.cut(SyntheticSeriesGenerator.make(kind: kind, seed: seed), hours: 14)
        let labelled = LabelledReplay(generated)
        let stored = Locked<[(tSeconds: Double, record: VerdictRecord)]>([])
        // An evaluation an hour: a status depends only on the data, not on how often it was judged.
        let replay = CollectorReplay(cadenceSeconds: 3600, observe: { t, record in stored.withLock { $0.append((t, record)) } })
        let timeline = try await replay.replay(labelled)
        #expect(timeline.evaluations >= 14, "one evaluation per hour of series")

        let configuration = replay.verdictConfiguration
        #expect(configuration.windowSeconds == CollectorConfiguration().verdictWindowSeconds)
        let analyzer = LeakAnalyzer(configuration: configuration)
        let siteNames = Dictionary(uniqueKeysWithValues: ReplaySeries.stackIDs([labelled.series]).map { ($0.value, $0.key) })
        var statuses: [String] = []
        for (t, record) in stored.withLock({ $0 }) {
            let (points, sites) = Self.window(
                labelled.series, startUnixSeconds: timeline.startUnixSeconds, endMs: record.evaluatedAtMs,
                seconds: HostSeriesAccumulator.readSpanSeconds(configuration))
            let direct = analyzer.evaluateHost(points, sites: sites)
            statuses.append(record.status)
            let directStatus = direct.isInsufficientData ? VerdictRecord.notEnoughData : direct.status.description
            #expect(record.status == directStatus,
                    "\(kind) seed \(seed) at t=\(t / 3600) h: collector path \(record.status), analyzer \(direct.status) (\(direct.total.reason))")
            if t == stored.withLock({ $0.last?.tSeconds }) {
                let named = Set(direct.sites.filter { $0.status == .suspectedLeak }.compactMap { siteNames[$0.siteID] })
                #expect(timeline.finalSuspectedSites == named)
            }
        }
        #expect(timeline.finalStatus == statuses.last)
    }

    /// The series' first `hours`.
    static func cut(_ series: LabelledSeries, hours: Double) -> LabelledSeries {
        var cut = series
        let end = series.startSeconds + hours * 3600
        cut.points = series.points.filter { $0.timestampSeconds < end }
        cut.sites = series.sites.mapValues { $0.filter { $0.timestampSeconds < end } }
        cut.endSeconds = end
        return cut
    }

    /// The rows the agent sent, as the analyzer takes them, at their wall-clock times, over the
    /// `seconds` ending at `endMs`.
    static func window(_ series: ReplaySeries, startUnixSeconds: Int64, endMs: Int64, seconds: Double)
        -> ([HostPoint], [SiteID: [SitePoint]])
    {
        let endSeconds = Double(endMs) / 1000
        let stackIDs = ReplaySeries.stackIDs([series])
        var points: [HostPoint] = []
        var sites: [SiteID: [SitePoint]] = [:]
        for row in series.rows {
            let timestamp = Double(startUnixSeconds) + row.tSeconds
            guard timestamp >= endSeconds - seconds && timestamp <= endSeconds + 1e-3 else { continue }
            points.append(HostPoint(
                timestampSeconds: timestamp, heapBytes: row.heapBytes, rssBytes: row.rssBytes, allocationCount: row.allocationCount,
                freeCount: row.freeCount, instanceID: "pid \(row.pid)", uptimeSeconds: row.uptimeSeconds))
            for sample in series.sites[row.tSeconds] ?? [] {
                sites[stackIDs[sample.siteID]!, default: []].append(SitePoint(timestampSeconds: timestamp, liveBytesEstimate: sample.liveBytes))
            }
        }
        return (points, sites)
    }
}
