import LeakTestSupport
import SyntheticSeries
import Testing

@testable import LeakAnalysis

/// When the allocation rate counts as a traffic cycle: the test that once held every real
/// server's verdict back for a day, because request noise read as a cycle.
struct TrafficVariationTests {
    let configuration = VerdictConfiguration()

    /// Allocation rates of consecutive 10-minute buckets: a daily cycle of `amplitude` plus
    /// independent noise of `noise` (fractions of the mean rate).
    func rates(hours: Double, amplitude: Double, noise: Double, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        let count = Int(hours * 6)
        return (0..<count).map { index in
            let t = Double(index) * 600
            return 1000 * (1 + amplitude * Math.sin(2 * Double.pi * t / 86400) + noise * rng.normal())
        }
    }

    @Test func requestNoiseAloneIsNotATrafficCycle() {
        for seed in 1...20 as ClosedRange<UInt64> {
            let noisy = rates(hours: 8, amplitude: 0, noise: 0.1, seed: seed)
            #expect(!TrafficAdjustment.varies(noisy, configuration: configuration), "seed \(seed)")
        }
    }

    @Test func aDailyCycleVariesEvenUnderNoise() {
        for seed in 1...20 as ClosedRange<UInt64> {
            let cycle = rates(hours: 8, amplitude: 0.3, noise: 0.1, seed: seed)
            #expect(TrafficAdjustment.varies(cycle, configuration: configuration), "seed \(seed)")
        }
    }

    @Test func theDailyCycleBoundGrowsWithTheWindowUpToTheWholeSwing() {
        let analyzer = TrendAnalyzer(configuration: configuration)
        let heap = 100.0
        // ±30 %: at most 7.9 %/h for short windows, the whole swing (60 %) from half a day on.
        let oneHour = analyzer.dailyCycleRise(lengthSeconds: 3600, heapScale: heap)
        #expect(abs(oneHour - 7.83) < 0.05, "\(oneHour)")
        #expect(analyzer.dailyCycleRise(lengthSeconds: 12 * 3600, heapScale: heap) == 60)
        #expect(analyzer.dailyCycleRise(lengthSeconds: 20 * 3600, heapScale: heap) == 60)
    }
}
