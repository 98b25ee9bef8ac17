import Testing
@testable import LeakAgent
import LeakWireCore

@Suite("Shipper spool and stack table")
struct ShipperSpoolTests {
    static func snapshot(_ sequence: UInt64, stackIDs: [UInt64]) -> Wire.Snapshot {
        var snapshot = Wire.Snapshot(sequence: sequence, timestampUnixNanos: 1_764_000_000_000_000_000 + Int64(sequence))
        for id in stackIDs {
            snapshot.sites.append(Wire.Site(stackID: id, liveBytes: 524_288 * id))
            snapshot.stacks.append(Wire.Stack(id: id, frames: [Wire.Frame(function: "f\(id)()")]))
        }
        return snapshot
    }

    static func entryBytes(stackIDs: [UInt64]) -> Int {
        var entry = snapshot(1, stackIDs: stackIDs)
        entry.stacks = []
        return entry.serializedBody().count
    }

    @Test func acknowledgedEntriesGoAndTheirStacksWithThem() {
        var spool = ShipperSpool(limitBytes: 1 << 20)
        spool.append(Self.snapshot(1, stackIDs: [1, 2]), reportedDrops: 0)
        spool.append(Self.snapshot(2, stackIDs: [2, 3]), reportedDrops: 0)
        #expect(spool.sequences == [1, 2])
        #expect(spool.entries.allSatisfy { $0.snapshot.stacks.isEmpty })
        #expect(spool.stacks.count == 3)
        #expect(spool.acknowledge(through: 1) == 1)
        #expect(spool.sequences == [2])
        #expect(spool.stacks.definition(1) == nil)
        #expect(spool.stacks.definition(2) != nil && spool.stacks.definition(3) != nil)
        #expect(spool.acknowledge(through: 5) == 1)
        #expect(spool.count == 0 && spool.byteCount == 0 && spool.stacks.count == 0)
    }

    @Test func aMemoryErrorsStacksAreInternedLikeSites() {
        var snapshot = Self.snapshot(1, stackIDs: [1])
        var event = Wire.Event(kind: .memoryError)
        event.accessStackID = 7
        event.allocationStackID = 1 // a site's stack too: carried once
        snapshot.events = [event]
        snapshot.stacks.append(Wire.Stack(id: 7, frames: [Wire.Frame(function: "write_past_end")]))
        var spool = ShipperSpool(limitBytes: 1 << 20)
        spool.append(snapshot, reportedDrops: 0)
        #expect(spool.stacks.definition(7) != nil, "an event's stack is kept while its snapshot is spooled")
        var carried = Set<UInt64>()
        let entry = spool.entries.first!.snapshot
        #expect(spool.stacks.missing(for: entry, carried: &carried).map(\.id) == [1, 7])
        #expect(spool.stacks.missing(for: entry, carried: &carried).isEmpty, "once per connection")
        var reconnected = Set<UInt64>()
        #expect(spool.stacks.missing(for: entry, carried: &reconnected).map(\.id) == [1, 7], "and again after a reconnect")
        spool.acknowledge(through: 1)
        #expect(spool.stacks.count == 0)
    }

    @Test func aFullSpoolDropsTheOldestAndCarriesUnreportedCounts() {
        let size = Self.entryBytes(stackIDs: [1])
        var spool = ShipperSpool(limitBytes: size * 3)
        for sequence in UInt64(1)...3 { spool.append(Self.snapshot(sequence, stackIDs: [1]), reportedDrops: 0) }
        #expect(spool.totalDrops == 0)
        spool.append(Self.snapshot(4, stackIDs: [1]), reportedDrops: 0)
        #expect(spool.sequences == [2, 3, 4])
        #expect(spool.unreportedDrops == 1)
        // Snapshot 5 reports the one drop; its append drops 2, which is owed to the next one.
        spool.append(Self.snapshot(5, stackIDs: [1]), reportedDrops: spool.unreportedDrops)
        #expect(spool.unreportedDrops == 1)
        // Now 3, 4 and 5 are dropped unsent: 5 reported 1, so 3 + 1 are owed.
        for sequence in UInt64(6)...8 {
            spool.append(Self.snapshot(sequence, stackIDs: [1]), reportedDrops: 0)
        }
        #expect(spool.sequences == [6, 7, 8])
        #expect(spool.unreportedDrops == 1 + 3 + 1)
        #expect(spool.totalDrops == 5)
        #expect(spool.stacks.definition(1) != nil)
    }

    @Test func dropsOfSentEntriesAreNotReported() {
        let size = Self.entryBytes(stackIDs: [1])
        var spool = ShipperSpool(limitBytes: size * 2)
        spool.append(Self.snapshot(1, stackIDs: [1]), reportedDrops: 0)
        spool.append(Self.snapshot(2, stackIDs: [1]), reportedDrops: 0)
        spool.markSent(sequence: 1)
        spool.append(Self.snapshot(3, stackIDs: [1]), reportedDrops: 0)
        #expect(spool.sequences == [2, 3])
        #expect(spool.unreportedDrops == 0)
        #expect(spool.totalDrops == 1)
    }

    @Test func theNewestEntryStaysEvenWhenAloneOverTheLimit() {
        var spool = ShipperSpool(limitBytes: 1)
        spool.append(Self.snapshot(1, stackIDs: [1, 2, 3]), reportedDrops: 0)
        spool.append(Self.snapshot(2, stackIDs: [4]), reportedDrops: 0)
        #expect(spool.sequences == [2])
        #expect(spool.stacks.count == 1)
    }

    @Test func thousandsOfEntriesStayConsistent() {
        var spool = ShipperSpool(limitBytes: Self.entryBytes(stackIDs: [1, 2]) * 500)
        for sequence in UInt64(1)...5000 {
            spool.append(Self.snapshot(sequence, stackIDs: [1, 2]), reportedDrops: 0)
            if sequence % 7 == 0 { spool.markSent(sequence: sequence) }
            if sequence % 1000 == 0 { spool.acknowledge(through: sequence - 100) }
        }
        let sequences = spool.sequences
        #expect(sequences == Array(sequences.first!...5000))
        #expect(spool.byteCount == spool.entries.reduce(0) { $0 + $1.byteCount })
        #expect(spool.entries.filter(\.sent).map(\.snapshot.sequence).allSatisfy { $0 % 7 == 0 })
    }

    @Test func eachConnectionCarriesEachStackOnce() {
        var spool = ShipperSpool(limitBytes: 1 << 20)
        spool.append(Self.snapshot(1, stackIDs: [1, 2]), reportedDrops: 0)
        spool.append(Self.snapshot(2, stackIDs: [2, 3]), reportedDrops: 0)
        var carried = Set<UInt64>()
        let entries = Array(spool.entries)
        #expect(spool.stacks.missing(for: entries[0].snapshot, carried: &carried).map(\.id) == [1, 2])
        #expect(spool.stacks.missing(for: entries[1].snapshot, carried: &carried).map(\.id) == [3])
        #expect(spool.stacks.missing(for: entries[1].snapshot, carried: &carried).isEmpty)
        var reconnected = Set<UInt64>()
        #expect(spool.stacks.missing(for: entries[1].snapshot, carried: &reconnected).map(\.id) == [2, 3])
    }

    @Test func backoffCeilingGrowsToTheMaximumAndResets() {
        var backoff = ShipperBackoff(minimumSeconds: 0.5, maximumSeconds: 4)
        var ceilings: [Double] = []
        for _ in 0..<6 {
            ceilings.append(backoff.ceilingSeconds)
            let delay = backoff.nextDelaySeconds()
            #expect(delay >= 0 && delay <= ceilings.last!)
        }
        #expect(ceilings == [0.5, 1, 2, 4, 4, 4])
        backoff.reset()
        #expect(backoff.ceilingSeconds == 0.5)
    }
}
