import SyntheticSeries
import Testing

@testable import LeakAnalysis

/// One test per kind of the labelled set, on two tuning seeds, replayed every hour of series
/// time (the verdict depends only on the data, so the cadence only changes when it is looked at).
@Suite("Verdicts per series kind")
struct SeriesKindTests {
    static let seeds: [UInt64] = [1, 2]
    static let evaluator = ReplayEvaluator(cadenceSeconds: 3600)

    static func outcomes(_ kind: SeriesKind) -> [ReplayOutcome] {
        seeds.map { evaluator.replay(SyntheticSeriesGenerator.make(kind: kind, seed: $0)) }
    }

    @Test(arguments: SeriesKind.allCases.filter { !$0.isLeak })
    func mustStayOk(_ kind: SeriesKind) {
        for outcome in Self.outcomes(kind) {
            #expect(!outcome.falseAlarm, "\(kind) seed \(outcome.seed) was flagged suspectedLeak")
        }
    }

    @Test(arguments: SeriesKind.allCases.filter { $0.isLeak && $0 != .maskedSiteLeak })
    func mustBeFlagged(_ kind: SeriesKind) {
        for outcome in Self.outcomes(kind) {
            #expect(outcome.detected, "\(kind) seed \(outcome.seed) was never flagged")
            #expect(!outcome.falseAlarm, "\(kind) seed \(outcome.seed) was flagged before its leak began")
        }
    }

    @Test func maskedSiteIsNamedExactly() {
        for outcome in Self.outcomes(.maskedSiteLeak) {
            #expect(outcome.detected)
            #expect(outcome.namedExactly == true, "seed \(outcome.seed): wrong sites named")
        }
    }

    @Test func maskedSiteVerdictNamesTheSiteWhileTheTotalIsFlat() {
        let series = SyntheticSeriesGenerator.make(kind: .maskedSiteLeak, seed: 3)
        let verdict = evaluateHost(series.points, sites: series.sites)
        #expect(verdict.status == .suspectedLeak)
        #expect(verdict.total.status != .suspectedLeak)
        #expect(Set(verdict.responsibleSites.filter { $0.status == .suspectedLeak }.map(\.siteID)) == series.leakingSites)
        #expect(verdict.rateBytesPerHour > 0)
        #expect(verdict.sinceSeconds != nil)
        #expect((0...1).contains(verdict.confidence))
    }

    @Test func aFlatSeriesIsOk() {
        let points: [HostPoint] = (0..<(6 * 360)).map { (index: Int) -> HostPoint in
            HostPoint(
                timestampSeconds: 1_000_000 + Double(index) * 10, heapBytes: 100_000_000 + UInt64(index % 7) * 1000,
                rssBytes: 0, allocationCount: UInt64(index) * 1000, freeCount: 0, instanceID: "x")
        }
        let verdict = evaluateHost(points)
        #expect(verdict.status == .ok)
        #expect(verdict.responsibleSites.isEmpty)
    }

    @Test func noPointsIsOkWithInsufficientData() {
        let verdict = evaluateHost([])
        #expect(verdict.status == .ok)
        #expect(verdict.total.reason == .insufficientData)
        #expect(verdict.evaluatedAtSeconds == nil)
    }
}
