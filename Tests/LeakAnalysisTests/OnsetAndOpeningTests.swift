import LeakTestSupport
import SyntheticSeries
import Testing

@testable import LeakAnalysis

@Suite("Floor opening and growth onset")
struct OnsetAndOpeningTests {
    static func buckets(_ floors: [Double], instance: Int = 0) -> [FloorBucket] {
        floors.enumerated().map {
            FloorBucket(index: Int64($0.offset), instance: instance, instanceStartSeconds: 0, floorBytes: $0.element, allocationsPerSecond: nil)
        }
    }

    static func times(_ buckets: [FloorBucket]) -> [Double] { buckets.map { (Double($0.index) + 0.5) * 600 } }

    @Test func theOpeningKeepsARampWhereItIsAndTheTrailingMinimumDelaysIt() {
        // Flat for 12 buckets, then +10 per bucket.
        let floors = (0..<30).map { $0 < 12 ? 100.0 : 100 + 10 * Double($0 - 11) }
        let buckets = Self.buckets(floors)
        var configuration = VerdictConfiguration()
        configuration.floorSmoothing = .opening
        let opened = TrendAnalyzer(configuration: configuration).smoothedFloors(buckets, times: Self.times(buckets))
        configuration.floorSmoothing = .trailingMinimum
        let trailing = TrendAnalyzer(configuration: configuration).smoothedFloors(buckets, times: Self.times(buckets))
        // Settled part (all but the last half hour): the opening is the ramp itself.
        for k in 0..<27 { #expect(opened[k] == floors[k], "bucket \(k)") }
        // The trailing minimum (the last six buckets) is the ramp five buckets late.
        #expect(trailing[15] == 100)
        for k in 16..<30 { #expect(trailing[k] == floors[k - 5], "bucket \(k)") }
    }

    @Test func theOpeningRemovesPeaksShorterThanTheSpanAndSawtooth() {
        var floors = [Double](repeating: 100, count: 30)
        for k in 10..<14 { floors[k] = 180 }  // a 40-minute batch job
        for k in 20..<30 { floors[k] = 100 + Double((k % 3) * 20) }  // 30-minute sawtooth
        let buckets = Self.buckets(floors)
        var configuration = VerdictConfiguration()
        configuration.floorSmoothing = .opening
        let opened = TrendAnalyzer(configuration: configuration).smoothedFloors(buckets, times: Self.times(buckets))
        for k in 0..<28 { #expect(opened[k] == 100, "bucket \(k): \(opened[k])") }
    }

    @Test func theOpeningDoesNotMixInstances() {
        let buckets = Self.buckets([100, 100, 100, 100]) + Self.buckets([10, 10, 10, 10], instance: 1).map {
            var bucket = $0
            bucket.index += 4
            return bucket
        }
        let opened = TrendAnalyzer(configuration: VerdictConfiguration()).opening(buckets, times: Self.times(buckets))
        #expect(opened == [100, 100, 100, 100, 10, 10, 10, 10])
    }

    @Test func theOnsetIsWhereTheGrowthBegan() throws {
        // Heap 1e9; flat with ±1 MB noise for 10 h, then +20 MB/h (2 %/h) for 3 h.
        var generator = SplitMix64(seed: 7)
        var floors: [Double] = []
        for k in 0..<78 {
            let noise: Double = 2e6 * (generator.unit() - 0.5)
            let growth: Double = k >= 60 ? 20e6 / 6 * Double(k - 60) : 0
            floors.append(1e9 + noise + growth)
        }
        let buckets = Self.buckets(floors)
        let times = Self.times(buckets)
        let analyzer = TrendAnalyzer(configuration: VerdictConfiguration())
        let onset = try #require(
            analyzer.growthOnset(times: times, values: floors, heapScale: 1e9, nowSeconds: 78 * 600))
        #expect(abs(onset.startSeconds - 60 * 600) <= 2 * 600, "onset at bucket \(onset.startSeconds / 600)")
        #expect(onset.accumulatedBytes > 40e6)
    }

    @Test func aRiseThatFellBackHasNoOnset() {
        // Flat for two hours, up 50 MB over the next two, then back down to where it started.
        var floors: [Double] = []
        for k in 0..<36 {
            let rise: Double = k < 12 ? 0 : k < 24 ? Double(k - 12) / 12 : Double(35 - k) / 11
            floors.append(1e9 + 50e6 * rise)
        }
        let buckets = Self.buckets(floors)
        let analyzer = TrendAnalyzer(configuration: VerdictConfiguration())
        #expect(
            analyzer.growthOnset(times: Self.times(buckets), values: floors, heapScale: 1e9, nowSeconds: 36 * 600)
                == nil)
    }

    /// A long-running, flat process that starts leaking: with the opening and the onset window it
    /// is flagged sooner than with the trailing minimum and the fixed trailing windows alone (on
    /// this clean series the opening makes most of the difference; the onset window pays on the
    /// noisier labelled set, see docs/PERFORMANCE.md).
    @Test func aLateLeakIsFlaggedSoonerThanWithFixedWindowsOnATrailingMinimum() throws {
        var generator = SplitMix64(seed: 11)
        let start = 1_700_000_000.0
        let leakStart = start + 20 * 3600
        var points: [HostPoint] = []
        for step in 0..<(30 * 360) {
            let t = start + Double(step) * 10
            let leak: Double = t > leakStart ? 12e6 * (t - leakStart) / 3600 : 0  // 1.2 %/h of 1 GB
            let heap: Double = 1e9 + 4e6 * generator.normal() + leak
            points.append(
                HostPoint(
                    timestampSeconds: t, heapBytes: UInt64(heap), rssBytes: 0, allocationCount: UInt64(step) * 5000, freeCount: 0,
                    instanceID: "x", uptimeSeconds: 5 * 86400 + Double(step) * 10))
        }
        func firstSuspected(_ configuration: VerdictConfiguration) -> Double? {
            let analyzer = LeakAnalyzer(configuration: configuration)
            let bucketed = BucketedHostSeries(points: points, sites: [:], configuration: configuration)
            var t = leakStart - 3600
            while t <= start + 30 * 3600 {
                let verdict = analyzer.evaluate(bucketed.prefix(endingBeforeSeconds: t, keepingSeconds: configuration.windowSeconds))
                if verdict.status == .suspectedLeak { return (t - leakStart) / 3600 }
                t += 600
            }
            return nil
        }
        var previousEngine = VerdictConfiguration()
        previousEngine.minimumOnsetWindowSeconds = 0
        previousEngine.floorSmoothing = .trailingMinimum
        let fixedWindows = try #require(firstSuspected(previousEngine))
        let fromOnset = try #require(firstSuspected(VerdictConfiguration()))
        #expect(fromOnset >= 0, "flagged before the leak began")
        #expect(fromOnset <= 3.5, "flagged \(fromOnset) h after the leak began")
        #expect(fromOnset + 0.5 <= fixedWindows, "onset \(fromOnset) h, fixed windows \(fixedWindows) h")
    }
}
