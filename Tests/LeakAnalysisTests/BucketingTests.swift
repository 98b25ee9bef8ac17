import LeakTestSupport
import Testing

@testable import LeakAnalysis

@Suite("Bucketing and floors")
struct BucketingTests {
    func point(_ t: Double, _ heap: UInt64, instance: String = "a", allocations: UInt64 = 0) -> HostPoint {
        HostPoint(
            timestampSeconds: t, heapBytes: heap, rssBytes: heap, allocationCount: allocations, freeCount: 0,
            instanceID: instance, uptimeSeconds: nil)
    }

    @Test func bucketsAreAlignedAndTakeTheLowQuantile() {
        // 600-second buckets: [600, 1200) and [1200, 1800).
        var points: [HostPoint] = []
        for (offset, heap) in [100, 500, 200, 300, 400, 1000, 900].enumerated() {
            points.append(point(600 + Double(offset) * 60, UInt64(heap), allocations: UInt64(offset * 60)))
        }
        points += [point(1200, 50), point(1260, 60), point(1320, 70)]
        let series = BucketedHostSeries(points: points.shuffledDeterministically(), sites: [:], configuration: VerdictConfiguration())
        #expect(series.host.count == 2)
        #expect(series.host[0].index == 1)
        // Sorted: 100 200 300 400 500 900 1000; q=0.1 → position 0.6 → 100 + 0.6·100.
        #expect(abs(series.host[0].floorBytes - 160) < 1e-9)
        #expect(series.host[0].allocationsPerSecond == 1)
        #expect(series.host[1].index == 2)
        #expect(abs(series.host[1].floorBytes - 52) < 1e-9)
        #expect(series.endSeconds == 1800)
    }

    @Test func aBucketWithTooFewPointsIsAGapNotAMeasurement() {
        let points = [point(600, 10), point(610, 10), point(1200, 5)]
        let series = BucketedHostSeries(points: points, sites: [:], configuration: VerdictConfiguration())
        #expect(series.host.isEmpty)
    }

    @Test func aRestartSplitsABucketAndStartsANewInstance() {
        let points = (0..<6).map { point(600 + Double($0) * 30, 100, instance: $0 < 3 ? "a" : "b") }
        let series = BucketedHostSeries(points: points, sites: [:], configuration: VerdictConfiguration())
        #expect(series.host.map(\.instance) == [0, 1])
        #expect(series.host.map(\.index) == [1, 1])
        #expect(series.host[1].instanceStartSeconds == 690)
    }

    @Test func uptimePlacesTheInstanceStartBeforeTheFirstPoint() {
        var points = (0..<3).map { point(600 + Double($0) * 10, 100) }
        for index in points.indices { points[index].uptimeSeconds = 5000 + Double(index) * 10 }
        let series = BucketedHostSeries(points: points, sites: [:], configuration: VerdictConfiguration())
        #expect(series.host[0].instanceStartSeconds == 600 - 5000)
    }

    @Test func sitesFollowTheHostsInstances() {
        let host = (0..<6).map { point(600 + Double($0) * 100, 100, instance: $0 < 3 ? "a" : "b") }
        let site = (0..<6).map { SitePoint(timestampSeconds: 600 + Double($0) * 100, liveBytesEstimate: 10) }
        var configuration = VerdictConfiguration()
        configuration.minimumPointsPerBucket = 1
        let series = BucketedHostSeries(points: host, sites: [7: site], configuration: configuration)
        #expect(series.sites[7]!.map(\.instance) == [0, 1])
    }

    @Test func runningMinimumCoversTheLastHourWithinAnInstance() {
        let analyzer = TrendAnalyzer(configuration: VerdictConfiguration())
        let floors: [Double] = [5, 1, 9, 9, 9, 9, 9, 9, 9]
        var buckets = floors.enumerated().map {
            FloorBucket(index: Int64($0.offset), instance: 0, instanceStartSeconds: 0, floorBytes: $0.element, allocationsPerSecond: nil)
        }
        buckets[8].instance = 1
        let times = buckets.map { (Double($0.index) + 0.5) * 600 }
        let minimum = analyzer.runningMinimum(buckets, times: times)
        // Six buckets per hour: the 1 at index 1 rules through index 6; index 8 starts afresh.
        #expect(minimum == [5, 1, 1, 1, 1, 1, 1, 9, 9])
    }
}

extension Array {
    /// A fixed permutation, to show that input order does not matter.
    func shuffledDeterministically() -> [Element] {
        var generator = SplitMix64(seed: 42)
        var result = self
        for index in stride(from: result.count - 1, to: 0, by: -1) {
            result.swapAt(index, generator.index(index + 1))
        }
        return result
    }
}
