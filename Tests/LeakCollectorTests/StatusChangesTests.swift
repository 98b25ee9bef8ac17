import Foundation
@testable import LeakCollector
import Testing

/// What an alert says changed between a host's previous judged verdict and a new one, and how a
/// waiting alert merges a newer one: subject by subject, the host and each site alike.
@Suite struct StatusChangesTests {
    static func verdict(_ status: String, sites: [(Int64, String)] = []) -> VerdictRecord {
        let named = sites.map { VerdictSite(stackId: $0.0, status: $0.1, rateBytesPerHour: 1_048_576, liveBytes: 1 << 24) }
        let json = String(decoding: try! JSONEncoder().encode(named), as: UTF8.self)
        return VerdictRecord(id: nil, hostId: 1, evaluatedAtMs: 0, status: status, rateBytesPerHour: 0, sinceMs: nil,
                             confidence: 1, summary: "", sites: json)
    }

    @Test func aSiteTurningWithinALeakingHostIsAChangeOfItsOwn() throws {
        let before = Self.verdict("suspectedLeak", sites: [(1, "suspectedLeak")])
        let after = Self.verdict("suspectedLeak", sites: [(1, "suspectedLeak"), (2, "growing")])
        let changes = try #require(StatusChanges(previous: before, current: after))
        #expect(changes.host == nil)
        #expect(changes.sites == [2: StatusChange(old: .ok, new: .growing)])
    }

    @Test func theFirstVerdictComparesWithOkAndASiteNoLongerNamedIsOk() throws {
        let first = try #require(StatusChanges(previous: nil, current: Self.verdict("growing", sites: [(3, "growing")])))
        #expect(first.host == StatusChange(old: .ok, new: .growing))
        #expect(first.sites == [3: StatusChange(old: .ok, new: .growing)])
        let back = try #require(StatusChanges(previous: Self.verdict("growing", sites: [(3, "growing")]), current: Self.verdict("ok")))
        #expect(back.sites == [3: StatusChange(old: .growing, new: .ok)])
        #expect(StatusChanges(previous: nil, current: Self.verdict("ok")) == nil, "a first ok is quiet")
    }

    @Test func notEnoughDataChangesNothing() {
        let leaking = Self.verdict("suspectedLeak", sites: [(1, "suspectedLeak")])
        #expect(StatusChanges(previous: leaking, current: Self.verdict("notEnoughData")) == nil)
        #expect(StatusChanges(previous: leaking, current: leaking) == nil)
    }

    @Test func aWaitingAlertMergesANewerOneSubjectBySubject() throws {
        let first = StatusChanges(host: StatusChange(old: .ok, new: .growing), sites: [1: StatusChange(old: .ok, new: .growing)])
        let second = StatusChanges(host: StatusChange(old: .growing, new: .suspectedLeak),
                                   sites: [1: StatusChange(old: .growing, new: .ok), 2: StatusChange(old: .ok, new: .growing)])
        let merged = try #require(first.then(second))
        #expect(merged.host == StatusChange(old: .ok, new: .suspectedLeak))
        #expect(merged.sites == [2: StatusChange(old: .ok, new: .growing)], "site 1 went and came back: no change")
        let undone = StatusChanges(host: StatusChange(old: .suspectedLeak, new: .ok), sites: [2: StatusChange(old: .growing, new: .ok)])
        #expect(merged.then(undone) == nil, "everything undone is no alert")
    }
}
