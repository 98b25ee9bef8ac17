import LeakTestSupport
import SyntheticSeries
import Testing

@testable import LeakAnalysis

/// The collector keeps each host's buckets between verdict passes (`HostSeriesAccumulator`); its
/// verdicts must be the ones a full recomputation over every point gives.
@Suite("Incremental bucketing")
struct IncrementalBucketingTests {
    @Test(arguments: SeriesKind.allCases)
    func verdictsEqualTheFullRecomputation(kind: SeriesKind) {
        let series = SyntheticSeriesGenerator.make(kind: kind, seed: 21)
        let configuration = VerdictConfiguration()
        let analyzer = LeakAnalyzer(configuration: configuration)
        var accumulator = HostSeriesAccumulator(configuration: configuration)
        var generator = SplitMix64(seed: UInt64(kind.rawValue.count))
        var added = 0
        var nextCheck = series.startSeconds + 5 * 3600
        var checks = 0
        while added < series.points.count {
            // Passes at irregular intervals (20 s to 20 min of snapshots), so that batches end
            // inside buckets of every scale.
            let batch = 2 + Int(generator.next() % 120)
            let end = min(series.points.count, added + batch)
            let through = series.points[end - 1].timestampSeconds
            let from = series.points[added].timestampSeconds
            accumulator.append(
                Array(series.points[added..<end]),
                sites: series.sites.mapValues { $0.filter { $0.timestampSeconds >= from && $0.timestampSeconds <= through } })
            added = end
            guard through >= nextCheck || added == series.points.count else { continue }
            nextCheck += 5 * 3600
            let points = Array(series.points[..<added])
            let sites = series.sites.mapValues { $0.filter { $0.timestampSeconds <= through } }
            let full = analyzer.evaluate(HostSeries(points: points, sites: sites, configuration: configuration))
            let incremental = analyzer.evaluate(accumulator.series)
            #expect(incremental == full, "\(kind) at \(Int((through - series.startSeconds) / 60)) min")
            checks += 1
        }
        #expect(checks >= 4)
        #expect(accumulator.outOfOrderPoints == 0)
    }

    @Test func keepsOnlyWhatAVerdictReads() {
        let series = SyntheticSeriesGenerator.make(kind: .leakOnDailyCycle, seed: 3)
        let configuration = VerdictConfiguration()
        var accumulator = HostSeriesAccumulator(configuration: configuration)
        accumulator.append(series.points, sites: series.sites)
        let kept = accumulator.series
        let readSpan = configuration.windowSeconds + configuration.confirmationSeconds
        #expect(Double(kept.base.host.count) * configuration.bucketSeconds <= readSpan + 2 * configuration.bucketSeconds)
        let duration = series.points.last!.timestampSeconds - series.points.first!.timestampSeconds
        #expect(Double(kept.base.host.count) * configuration.bucketSeconds >= min(readSpan, duration))
        for (scale, bucketed) in zip(configuration.fastTimeScales, kept.fast) where !bucketed.host.isEmpty {
            let fast = configuration.atFastScale(scale)
            #expect(Double(bucketed.host.count) * fast.bucketSeconds <= fast.windowSeconds + fast.confirmationSeconds + 2 * fast.bucketSeconds)
        }
    }

    @Test func aLateSnapshotIsCountedAndLeftOut() {
        let series = SyntheticSeriesGenerator.make(kind: .noisyFlat, seed: 4)
        var accumulator = HostSeriesAccumulator(configuration: VerdictConfiguration())
        accumulator.append(Array(series.points[100..<200]))
        let before = accumulator.series.base.host
        accumulator.append(Array(series.points[50..<60]) + Array(series.points[200..<210]))
        #expect(accumulator.outOfOrderPoints == 10)
        #expect(accumulator.newestSeconds == series.points[209].timestampSeconds)
        #expect(accumulator.series.base.host.first == before.first)
    }
}
