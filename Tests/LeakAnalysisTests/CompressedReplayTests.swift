import SyntheticSeries
import Testing

@testable import LeakAnalysis

/// A replay that compresses hours into seconds, judged with `compressingTime(by:)`, must reach the
/// verdicts of the uncompressed replay at the corresponding times: same status and reason for the
/// host total, the same "since" (scaled), the same sites named. Rates stay per hour of snapshot
/// time (a compressed leak grows `factor` times faster per snapshot hour, which is what the
/// collector's demo relies on), so the test raises the rate threshold by the factor too: what is
/// compared is that every duration is scaled.
@Suite("Compressed replay")
struct CompressedReplayTests {
    static let factor = 60.0

    /// The series' timestamps (and uptimes) divided by `factor` around an origin on a bucket
    /// boundary of both time scales, so the same points fall in the same buckets.
    static func compress(_ series: LabelledSeries, origin: Double) -> (points: [HostPoint], sites: [SiteID: [SitePoint]]) {
        let points = series.points.map { point -> HostPoint in
            var compressed = point
            compressed.timestampSeconds = origin + (point.timestampSeconds - origin) / factor
            compressed.uptimeSeconds = point.uptimeSeconds.map { $0 / factor }
            return compressed
        }
        let sites = series.sites.mapValues { sitePoints in
            sitePoints.map { SitePoint(timestampSeconds: origin + ($0.timestampSeconds - origin) / factor, liveBytesEstimate: $0.liveBytesEstimate) }
        }
        return (points, sites)
    }

    /// A leak on a lagged daily cycle over more than a day (the day-over-day comparison applies) and
    /// a restart series (the prior level before a window, `refinedStart`, is read within an instance).
    @Test(arguments: [(SeriesKind.leakOnDailyCycle, UInt64(3)), (.leakOnDailyCycle, 9), (.lateLeak, 3), (.stepwiseLeak, 4)])
    func compressedReplayReachesTheSameVerdicts(kind: SeriesKind, seed: UInt64) {
        let series = SyntheticSeriesGenerator.make(kind: kind, seed: seed)
        let configuration = VerdictConfiguration()
        var compressedConfiguration = configuration.compressingTime(by: Self.factor)
        compressedConfiguration.materialRateFractionPerHour *= Self.factor
        let origin = (series.startSeconds / 600).rounded(.down) * 600
        let compressed = Self.compress(series, origin: origin)
        let real = BucketedHostSeries(points: series.points, sites: series.sites, configuration: configuration)
        let fast = BucketedHostSeries(points: compressed.points, sites: compressed.sites, configuration: compressedConfiguration)
        let realAnalyzer = LeakAnalyzer(configuration: configuration)
        let fastAnalyzer = LeakAnalyzer(configuration: compressedConfiguration)
        var suspected = 0
        var compared = 0
        var end = origin + 3 * 3600
        while end <= series.endSeconds {
            let expected = realAnalyzer.evaluate(real.prefix(endingBeforeSeconds: end, keepingSeconds: configuration.windowSeconds))
            let fastEnd = origin + (end - origin) / Self.factor
            let actual = fastAnalyzer.evaluate(fast.prefix(endingBeforeSeconds: fastEnd, keepingSeconds: compressedConfiguration.windowSeconds))
            let hours = (end - series.startSeconds) / 3600
            #expect(actual.status == expected.status, "status at \(hours) h")
            #expect(actual.total.status == expected.total.status, "total at \(hours) h")
            #expect(actual.total.reason == expected.total.reason, "reason at \(hours) h")
            #expect(Set(actual.responsibleSites.map(\.siteID)) == Set(expected.responsibleSites.map(\.siteID)), "sites at \(hours) h")
            if let since = expected.sinceSeconds, expected.status == .suspectedLeak {
                let scaled = origin + (since - origin) / Self.factor
                #expect(abs((actual.sinceSeconds ?? 0) - scaled) < 1, "since at \(hours) h")
            }
            if expected.status == .suspectedLeak { suspected += 1 }
            compared += 1
            end += 3600
        }
        #expect(compared >= 20)
        #expect(suspected > 0, "the real-time replay flags the leak")
    }
}
