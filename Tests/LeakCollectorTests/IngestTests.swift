import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

@Suite struct IngestTests {
    @Test func agentSnapshotsAreCommittedThenAckedAndDuplicatesIgnored() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let instance = randomInstanceID()
            let acks = try await blocking {
                let agent = try TestAgent(port: port, hostName: "web-3", instanceID: instance)
                #expect(agent.welcome.accepted)
                #expect(agent.welcome.lastAcknowledgedSequence == 0)
                var acks: [UInt64] = []
                acks.append(try agent.sendAndWait(makeSnapshot(sequence: 1)))
                // Pipelined: three snapshots before any Ack; stacks are only referenced now.
                for sequence in 2...4 { try agent.send(makeSnapshot(sequence: UInt64(sequence), defineStacks: false)) }
                for _ in 2...4 { acks.append(try agent.receiveAck()) }
                // A resend of sequence 3 (as after a lost Ack): acked, not stored twice.
                acks.append(try agent.sendAndWait(makeSnapshot(sequence: 3, currentBytes: 1, defineStacks: false)))
                return acks
            }
            #expect(acks == [1, 2, 3, 4, 3])
            let store = running.collector.sqliteStore
            let (count, bytes3) = try store.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM sample")!,
                 try Int64.fetchOne(db, sql: "SELECT bytesInUse FROM sample WHERE sequence = 3")!)
            }
            #expect(count == 4)
            #expect(bytes3 == 10_000_000)
            let stackCount = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack") }
            #expect(stackCount == 3)
            let typeName = try store.read { db in try String.fetchOne(db, sql: "SELECT typeName FROM stack WHERE typeName IS NOT NULL") }
            #expect(typeName == "MyApp.Session")

            // Reconnecting, the same process instance learns what is committed.
            let welcome = try await blocking { try TestAgent(port: port, hostName: "web-3", instanceID: instance).welcome }
            #expect(welcome.lastAcknowledgedSequence == 4)
        }
    }

    @Test func manyConcurrentAgentsAllAcked() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path) {
            $0.maximumPendingSnapshotsPerConnection = 4  // exercise backpressure
        }.use { running in
            let port = running.port
            try await withThrowingTaskGroup(of: Int.self) { group in
                for agentIndex in 0..<8 {
                    group.addTask {
                        try await blocking {
                            let agent = try TestAgent(port: port, hostName: "host-\(agentIndex)")
                            let total = 200
                            var received = 0
                            for sequence in 1...total {
                                try agent.send(makeSnapshot(sequence: UInt64(sequence), siteCount: 20, defineStacks: sequence == 1))
                                while let message = try agent.connection.receive(timeoutSeconds: 0) {
                                    guard case .ack = message else { throw TestFailure("unexpected \(message)") }
                                    received += 1
                                }
                            }
                            while received < total {
                                _ = try agent.receiveAck()
                                received += 1
                            }
                            return received
                        }
                    }
                }
                for try await received in group { #expect(received == 200) }
            }
            let count = try running.collector.sqliteStore.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") }
            #expect(count == 8 * 200)
        }
    }

    @Test func gracefulShutdownCommitsInFlightSnapshotsAndClosesTheDatabase() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            let agent = try await blocking { try TestAgent(port: port, hostName: "web-9") }
            let acked = try await blocking {
                for sequence in 1...300 { try agent.send(makeSnapshot(sequence: UInt64(sequence), defineStacks: sequence == 1)) }
                return try agent.receiveAck()
            }
            #expect(acked == 1)
            try await running.stop()
            // Everything acked before the close arrived; the peer was told the collector stops.
            let tail = try await blocking { () -> (acks: [UInt64], error: Leakwatch_V1_Error?) in
                var acks: [UInt64] = []
                while true {
                    do {
                        switch try agent.connection.receive() {
                        case .ack(let ack): acks.append(ack.sequence)
                        case .error(let error): return (acks, error)
                        default: continue
                        }
                    } catch { return (acks, nil) }
                }
            }
            let ackedTotal = 1 + tail.acks.count
            #expect(tail.error?.code == .shuttingDown)
            let store = try SQLiteStore(path: running.collector.configuration.databasePath, logger: running.logs.logger)
            let stored = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample")! }
            #expect(stored >= ackedTotal)
            #expect(try store.integrityCheck() == "ok")
            try store.close()
            // The WAL was checkpointed and truncated at close.
            let walSize = (try? FileManager.default.attributesOfItem(atPath: running.collector.configuration.databasePath + "-wal")[.size] as? Int) ?? 0
            #expect(walSize == 0)
        }
    }
}
