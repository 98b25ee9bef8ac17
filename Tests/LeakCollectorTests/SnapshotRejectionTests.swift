import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// A snapshot breaking a rule of docs/PROTOCOL.md, "Validation", against a live collector: the
/// agent hears MALFORMED_MESSAGE naming the field with `request_id` = the sequence, nothing of
/// that snapshot is stored, and the connection goes on: the next good snapshot is stored and acked.
@Suite struct SnapshotRejectionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let field: String
        let mutate: @Sendable (inout Leakwatch_V1_Snapshot) -> Void
        var testDescription: String { name }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    static let cases: [Case] = [
        // Issue 15's table, one row each.
        Case(name: "uptime NaN (was INTERNAL, resent forever)", field: "stats.uptime_seconds") { $0.stats.uptimeSeconds = .nan },
        Case(name: "uptime +inf", field: "stats.uptime_seconds") { $0.stats.uptimeSeconds = .infinity },
        Case(name: "uptime 1e300", field: "stats.uptime_seconds") { $0.stats.uptimeSeconds = 1e300 },
        Case(name: "current bytes 2^64-1", field: "stats.current_bytes") { $0.stats.currentBytes = .max },
        Case(name: "rss 2^63", field: "stats.rss_bytes") { $0.stats.rssBytes = 1 << 63 },
        Case(name: "timestamp in 2262", field: "timestamp_unix_nanos") { $0.timestampUnixNanos = .max - 1 },
        // The other rules.
        Case(name: "timestamp 0", field: "timestamp_unix_nanos") { $0.timestampUnixNanos = 0 },
        Case(name: "uptime negative", field: "stats.uptime_seconds") { $0.stats.uptimeSeconds = -1 },
        Case(name: "blocks outstanding", field: "stats.blocks_outstanding") { $0.stats.blocksOutstanding = .min },
        Case(name: "site live objects", field: "sites[2].live_objects") { $0.sites[2].liveObjects = .max },
        Case(name: "size class bytes", field: "size_classes[0].bytes") { $0.sizeClasses[0].bytes = .max },
        Case(name: "event from the future", field: "events[0].timestamp_unix_nanos") {
            $0.events = [.with { $0.kind = .agentError; $0.timestampUnixNanos = now + 3_600_000_000_000 }]
        },
        Case(name: "type name 20 KB", field: "sites[0].type_name") { $0.sites[0].typeName = String(repeating: "T", count: 20_000) },
        Case(name: "allocation count ran backwards", field: "stats.allocation_count") { $0.stats.allocationCount = 1 },
        Case(name: "free count ran backwards", field: "stats.free_count") { $0.stats.freeCount = 0 },
    ]

    /// Sends `snapshot` and returns the Error frame the collector answers with.
    static func expectRejection(_ agent: TestAgent, _ snapshot: Leakwatch_V1_Snapshot) throws -> Leakwatch_V1_Error {
        try agent.send(snapshot)
        let reply = try agent.connection.receive()
        guard case .error(let error) = reply else { throw TestFailure("expected an Error frame, got \(reply)") }
        return error
    }

    static func storedSequences(_ running: TestCollector) throws -> [Int64] {
        try running.collector.sqliteStore.read { db in try Int64.fetchAll(db, sql: "SELECT sequence FROM sample ORDER BY sequence") }
    }

    @Test(arguments: cases)
    func aViolationRejectsThatSnapshotOnlyAndNamesTheField(_ testCase: Case) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let agent = try await blocking { try TestAgent(port: port, hostName: "rejected") }
            #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 1)) } == 1)

            var bad = makeSnapshot(sequence: 2, defineStacks: false)
            testCase.mutate(&bad)
            let error = try await blocking { [bad] in try Self.expectRejection(agent, bad) }
            #expect(error.code == .malformedMessage)
            #expect(error.requestID == 2, "request_id names the rejected snapshot")
            #expect(error.message.contains(testCase.field), "\(error.message)")
            #expect(error.message.contains("snapshot 2"))

            // Same connection: the next snapshot is stored and acked as if nothing happened.
            #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 3, defineStacks: false)) } == 3)
            #expect(try Self.storedSequences(running) == [1, 3])
            #expect(try running.collector.store.hosts().map(\.name) == ["rejected"])
        }
    }

    @Test func aRejectedSnapshotsStacksServeTheSnapshotsAfterIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let agent = try await blocking { try TestAgent(port: port, hostName: "first-rejected") }
            // The first snapshot of the connection carries every stack, and is rejected.
            var first = makeSnapshot(sequence: 1)
            first.stats.uptimeSeconds = .nan
            let error = try await blocking { [first] in try Self.expectRejection(agent, first) }
            #expect(error.requestID == 1)
            // The agent counts those stacks as carried: the next names them by id alone.
            #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 2, defineStacks: false)) } == 2)
            let siteStacks = try running.collector.sqliteStore.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack") }
            #expect(siteStacks == 3)
        }
    }

    @Test func countersAreComparedWithTheNewestStoredSnapshotAfterAReconnect() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let instance = randomInstanceID()
            let before = try await blocking { try TestAgent(port: port, hostName: "resumed", instanceID: instance) }
            #expect(try await blocking { try before.sendAndWait(makeSnapshot(sequence: 5)) } == 5)
            before.connection.close()

            let after = try await blocking { try TestAgent(port: port, hostName: "resumed", instanceID: instance) }
            #expect(after.welcome.lastAcknowledgedSequence == 5)
            var backwards = makeSnapshot(sequence: 6)
            backwards.stats.allocationCount = 4999  // 5000 in snapshot 5
            let error = try await blocking { [backwards] in try Self.expectRejection(after, backwards) }
            #expect(error.message.contains("stats.allocation_count"), "\(error.message)")
            #expect(error.message.contains("snapshot 5"))
            #expect(try await blocking { try after.sendAndWait(makeSnapshot(sequence: 7, defineStacks: false)) } == 7)

            // A new process instance starts its counters over.
            let restarted = try await blocking { try TestAgent(port: port, hostName: "resumed") }
            #expect(try await blocking { try restarted.sendAndWait(makeSnapshot(sequence: 1)) } == 1)
        }
    }

    @Test func theReceiptTimeIsStoredBesideTheAgentsTimestamp() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let agent = try await blocking { try TestAgent(port: port, hostName: "clocked") }
            let beforeMs = Self.now / 1_000_000
            // An agent clock 2 minutes fast: within the allowed skew, so stored, and visible.
            var snapshot = makeSnapshot(sequence: 1, timestampNanos: Self.now + 120_000_000_000)
            snapshot.events = []
            let sent = snapshot
            #expect(try await blocking { try agent.sendAndWait(sent) } == 1)
            let afterMs = Self.now / 1_000_000
            let row = try #require(try running.collector.sqliteStore.read { db in
                try Row.fetchOne(db, sql: "SELECT timestampMs, receivedAtMs FROM sample")
            })
            let timestampMs: Int64 = row["timestampMs"], receivedAtMs: Int64 = row["receivedAtMs"]
            #expect((beforeMs...afterMs).contains(receivedAtMs))
            #expect(timestampMs == snapshot.timestampUnixNanos / 1_000_000, "computations keep the agent's time")
        }
    }
}
