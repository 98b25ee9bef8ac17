import SyntheticSeries
import Testing

@testable import LeakAnalysis

@Suite("Determinism and replay")
struct DeterminismTests {
    @Test func theGeneratorIsDeterministic() {
        let first = SyntheticSeriesGenerator.make(kind: .leakOnDailyCycle, seed: 5)
        let second = SyntheticSeriesGenerator.make(kind: .leakOnDailyCycle, seed: 5)
        #expect(first.points == second.points)
        #expect(first.sites == second.sites)
        #expect(first.leakStartSeconds == second.leakStartSeconds)
        #expect(SyntheticSeriesGenerator.make(kind: .leakOnDailyCycle, seed: 6).points != first.points)
    }

    @Test func sameInputTwiceGivesTheSameVerdict() {
        let series = SyntheticSeriesGenerator.make(kind: .lateLeak, seed: 3)
        let first = evaluateHost(series.points, sites: series.sites)
        let second = evaluateHost(series.points.shuffledDeterministically(), sites: series.sites)
        #expect(first == second)
        #expect(first.status == .suspectedLeak)
    }

    @Test func pointsAndBucketPrefixesAgree() {
        // What the collector does (the last 48 h of points) equals what the replay does (a prefix of
        // buckets built once) at a bucket boundary.
        let series = SyntheticSeriesGenerator.make(kind: .restartResetLeak, seed: 2)
        let configuration = VerdictConfiguration()
        let analyzer = LeakAnalyzer(configuration: configuration)
        let bucketed = BucketedHostSeries(points: series.points, sites: series.sites, configuration: configuration)
        for hours in [6.0, 20.0] {
            let end = ((series.startSeconds + hours * 3600) / 600).rounded(.down) * 600
            let points = series.points.filter { $0.timestampSeconds < end && $0.timestampSeconds >= end - configuration.windowSeconds }
            let sites = series.sites.mapValues { $0.filter { $0.timestampSeconds < end && $0.timestampSeconds >= end - configuration.windowSeconds } }
            let direct = analyzer.evaluateHost(points, sites: sites)
            let replayed = analyzer.evaluate(bucketed.prefix(endingBeforeSeconds: end, keepingSeconds: configuration.windowSeconds))
            #expect(direct == replayed, "at \(hours) h")
        }
    }

    @Test func replayCadenceDoesNotChangeTheVerdicts() {
        let series = SyntheticSeriesGenerator.make(kind: .stepwiseLeak, seed: 4)
        let configuration = VerdictConfiguration()
        let analyzer = LeakAnalyzer(configuration: configuration)
        let bucketed = BucketedHostSeries(points: series.points, sites: series.sites, configuration: configuration)
        let fine = ReplayEvaluator(configuration: configuration, cadenceSeconds: 1800)
        let coarse = ReplayEvaluator(configuration: configuration, cadenceSeconds: 7200)
        var fineVerdicts: [Double: HostVerdict] = [:]
        for t in fine.evaluationTimes(series) {
            fineVerdicts[t] = analyzer.evaluate(bucketed.prefix(endingBeforeSeconds: t, keepingSeconds: configuration.windowSeconds))
        }
        let coarseTimes = coarse.evaluationTimes(series)
        for t in coarseTimes {
            let verdict = analyzer.evaluate(bucketed.prefix(endingBeforeSeconds: t, keepingSeconds: configuration.windowSeconds))
            #expect(fineVerdicts[t] == nil || fineVerdicts[t] == verdict)
        }
        let finalTime = coarseTimes.last!
        #expect(fineVerdicts[finalTime] != nil)
        #expect(fineVerdicts[finalTime]!.status == .suspectedLeak)
    }
}
