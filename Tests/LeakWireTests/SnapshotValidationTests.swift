import Foundation
import LeakWire
import Testing

/// docs/PROTOCOL.md, "Validation": every rule rejects with the field's schema name, and every
/// bound is inclusive (the bound itself is accepted, one past it is not).
@Suite struct SnapshotValidationTests {
    /// The collector's clock in these tests: 10 minutes after the example snapshot was taken.
    static let receivedAt = Fixtures.exampleSnapshot.timestampUnixNanos + 600_000_000_000

    static func violation(_ mutate: (inout Leakwatch_V1_Snapshot) -> Void) -> SnapshotViolation? {
        var snapshot = Fixtures.exampleSnapshot
        mutate(&snapshot)
        do {
            try SnapshotValidation.check(snapshot, receivedAtUnixNanos: receivedAt)
            return nil
        } catch {
            return error
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let field: String
        let rule: SnapshotViolation
        let mutate: @Sendable (inout Leakwatch_V1_Snapshot) -> Void
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "uptime NaN", field: "stats.uptime_seconds", rule: .notFinite) { $0.stats.uptimeSeconds = .nan },
        Case(name: "uptime +inf", field: "stats.uptime_seconds", rule: .notFinite) { $0.stats.uptimeSeconds = .infinity },
        Case(name: "uptime -inf", field: "stats.uptime_seconds", rule: .notFinite) { $0.stats.uptimeSeconds = -.infinity },
        Case(name: "uptime negative", field: "stats.uptime_seconds", rule: .negative) { $0.stats.uptimeSeconds = -0.5 },
        Case(name: "uptime 1e300", field: "stats.uptime_seconds", rule: .aboveBound) { $0.stats.uptimeSeconds = 1e300 },
        Case(name: "current bytes 2^64-1", field: "stats.current_bytes", rule: .aboveBound) { $0.stats.currentBytes = .max },
        Case(name: "rss 2^63-1", field: "stats.rss_bytes", rule: .aboveBound) { $0.stats.rssBytes = UInt64(Int64.max) },
        Case(name: "total allocated 2^56+1", field: "stats.total_allocated_bytes", rule: .aboveBound) {
            $0.stats.totalAllocatedBytes = (1 << 56) + 1
        },
        Case(name: "blocks outstanding Int64.min", field: "stats.blocks_outstanding", rule: .aboveBound) {
            $0.stats.blocksOutstanding = .min
        },
        Case(name: "tracker bytes", field: "overhead.tracker_bytes", rule: .aboveBound) { $0.overhead.trackerBytes = .max },
        Case(name: "size class count", field: "size_classes[0].count", rule: .aboveBound) { $0.sizeClasses[0].count = .max },
        Case(name: "top size count", field: "top_sizes[0].count", rule: .aboveBound) { $0.topSizes[0].count = .max },
        Case(name: "site live bytes", field: "sites[0].live_bytes", rule: .aboveBound) { $0.sites[0].liveBytes = 1 << 60 },
        Case(name: "site type name 16 KiB + 1", field: "sites[0].type_name", rule: .tooLong) {
            $0.sites[0].typeName = String(repeating: "T", count: (16 << 10) + 1)
        },
        Case(name: "year 2262", field: "timestamp_unix_nanos", rule: .aheadOfCollector) { $0.timestampUnixNanos = .max },
        Case(name: "ahead by 5 min + 1 ns", field: "timestamp_unix_nanos", rule: .aheadOfCollector) {
            $0.timestampUnixNanos = receivedAt + 300_000_000_000 + 1
        },
        Case(name: "timestamp 0", field: "timestamp_unix_nanos", rule: .tooEarly) { $0.timestampUnixNanos = 0 },
        Case(name: "negative timestamp", field: "timestamp_unix_nanos", rule: .tooEarly) { $0.timestampUnixNanos = .min },
        Case(name: "event in the future", field: "events[0].timestamp_unix_nanos", rule: .aheadOfCollector) {
            $0.events[0].timestampUnixNanos = .max
        },
        Case(name: "event dropped count", field: "events[0].dropped_count", rule: .aboveBound) { $0.events[0].droppedCount = .max },
        Case(name: "event message", field: "events[0].message", rule: .tooLong) {
            $0.events[0].message = String(repeating: "m", count: 20_000)
        },
        Case(name: "memory error offset", field: "events[0].block_offset", rule: .aboveBound) {
            $0.events[0].blockOffset = .min
        },
        Case(name: "memory error block size", field: "events[0].block_size_bytes", rule: .aboveBound) {
            $0.events[0].blockSizeBytes = .max
        },
        Case(name: "memory error stack id", field: "events[0].free_stack_id", rule: .aboveBound) {
            $0.events[0].freeStackID = .max
        },
        Case(name: "function name", field: "stacks[0].frames[0].function", rule: .tooLong) {
            $0.stacks[0].frames[0].function = String(repeating: "f", count: 20_000)
        },
        Case(name: "file name", field: "stacks[0].frames[0].file", rule: .tooLong) {
            $0.stacks[0].frames[0].file = String(repeating: "/", count: 20_000)
        },
        Case(name: "257 frames", field: "stacks[0].frames", rule: .tooDeep) {
            $0.stacks[0].frames = Array(repeating: $0.stacks[0].frames[0], count: 257)
        },
    ]

    @Test(arguments: cases)
    func aBrokenRuleNamesTheFieldAndTheSnapshot(_ testCase: Case) throws {
        let violation = try #require(Self.violation(testCase.mutate), "\(testCase.name) was accepted")
        #expect(violation == testCase.rule)
        #expect(violation.field == testCase.field)
        #expect(violation.sequence == 7)
        let message = violation.errorMessage
        #expect(message.code == .malformedMessage)
        #expect(message.requestID == 7, "request_id carries the rejected snapshot's sequence")
        #expect(message.message.contains(testCase.field))
        #expect(Wire.Error(message).rejectedSnapshotSequence == 7, "the agent drops that snapshot, never resends it")
    }

    @Test func theExampleSnapshotAndEveryBoundItselfAreAccepted() {
        #expect(Self.violation { _ in } == nil)
        #expect(Self.violation {
            $0.stats.currentBytes = 1 << 56
            $0.stats.blocksOutstanding = -(1 << 56)
            $0.stats.uptimeSeconds = 4_294_967_296
            $0.timestampUnixNanos = Self.receivedAt + 300_000_000_000
            $0.events[0].timestampUnixNanos = 1_577_836_800_000_000_000
            $0.events[0].blockOffset = -(1 << 56)
            $0.events[0].faultAddress = .max // an address, not an amount
            $0.stacks[0].frames = Array(repeating: $0.stacks[0].frames[0], count: 256)
            $0.stacks[0].frames[0].function = String(repeating: "f", count: 16 << 10)
        } == nil)
    }

    @Test func sizesAnApplicationAskedForAreNotBounded() {
        // The schema's last size class is UINT64_MAX; a failed malloc(SIZE_MAX) is a real request.
        #expect(Self.violation {
            $0.sizeClasses[0].upperBoundBytes = .max
            $0.topSizes[0].size = .max
        } == nil)
    }

    @Test func totalsMayNotRunBackwardsWithinAProcess() throws {
        let earlier = SnapshotCounters(sequence: 6, totalAllocatedBytes: 100, allocationCount: 10, freeCount: 5)
        let same = SnapshotCounters(sequence: 7, totalAllocatedBytes: 100, allocationCount: 10, freeCount: 5)
        try SnapshotValidation.checkContinuity(same, after: earlier, sequence: 7)
        for (field, later) in [
            ("stats.total_allocated_bytes", SnapshotCounters(sequence: 7, totalAllocatedBytes: 99, allocationCount: 10, freeCount: 5)),
            ("stats.allocation_count", SnapshotCounters(sequence: 7, totalAllocatedBytes: 100, allocationCount: 9, freeCount: 5)),
            ("stats.free_count", SnapshotCounters(sequence: 7, totalAllocatedBytes: 100, allocationCount: 10, freeCount: 4)),
        ] {
            #expect(throws: SnapshotViolation.ranBackwards) {
                try SnapshotValidation.checkContinuity(later, after: earlier, sequence: 7)
            }
            do {
                try SnapshotValidation.checkContinuity(later, after: earlier, sequence: 7)
            } catch {
                #expect(error.field == field)
                #expect(error.description.contains("snapshot 6"), "names the snapshot it is compared with")
            }
        }
    }

    @Test func onlyAnIdentifiedMalformedSnapshotIsDroppedEverythingElseIsRetried() {
        let internalError = Wire.Error(code: .internal, requestID: 7)
        #expect(internalError.rejectedSnapshotSequence == nil, "storage failures are retried")
        let connectionError = Wire.Error(code: .malformedMessage)
        #expect(connectionError.rejectedSnapshotSequence == nil, "a framing error names no snapshot")
    }

    @Test func stacksAreCheckedOnTheirOwn() throws {
        var snapshot = Fixtures.exampleSnapshot
        snapshot.stats.uptimeSeconds = .nan
        try SnapshotValidation.checkStacks(snapshot)
        snapshot.stacks[0].frames[0].image = String(repeating: "i", count: 20_000)
        #expect(throws: SnapshotViolation.tooLong) { try SnapshotValidation.checkStacks(snapshot) }
    }
}

/// A snapshot's timestamps belong to the life of the process that sent it (Hello's
/// `process_start_unix_nanos`), less the skew an agent's clock may be stepped back by.
@Suite struct SnapshotProcessStartTests {
    static let skew: Int64 = 300_000_000_000

    static func check(_ snapshot: Leakwatch_V1_Snapshot, processStart: Int64?) throws(SnapshotViolation) {
        try SnapshotValidation.check(snapshot, receivedAtUnixNanos: SnapshotValidationTests.receivedAt,
                                     processStartUnixNanos: processStart)
    }

    @Test func aTimestampMoreThanTheSkewBeforeTheProcessStartedIsRejected() throws {
        let snapshot = Fixtures.exampleSnapshot
        let start = snapshot.timestampUnixNanos + Self.skew + 1
        #expect(throws: SnapshotViolation.beforeProcessStart) { try Self.check(snapshot, processStart: start) }
        do {
            try Self.check(snapshot, processStart: start)
        } catch {
            #expect(error.field == "timestamp_unix_nanos")
            #expect(error.detail.contains("before the process started"), "\(error.detail)")
            #expect(error.detail.contains("\(start)"), "names the Hello's start: \(error.detail)")
        }
    }

    @Test func withinTheSkewAndWithoutAKnownStartItIsAccepted() throws {
        let snapshot = Fixtures.exampleSnapshot
        let earliest = ([snapshot.timestampUnixNanos] + snapshot.events.map(\.timestampUnixNanos)).min()!
        try Self.check(snapshot, processStart: earliest + Self.skew)
        try Self.check(snapshot, processStart: nil)
        try Self.check(snapshot, processStart: .min)  // no overflow below the fixed floor
    }

    @Test func eventsKeepTheSameRule() {
        var snapshot = Fixtures.exampleSnapshot
        snapshot.events[0].timestampUnixNanos = snapshot.timestampUnixNanos - 2 * Self.skew
        do {
            try Self.check(snapshot, processStart: snapshot.timestampUnixNanos - Self.skew / 2)
            Issue.record("an event from before its process started was accepted")
        } catch {
            #expect(error == .beforeProcessStart)
            #expect(error.field == "events[0].timestamp_unix_nanos")
        }
    }
}
