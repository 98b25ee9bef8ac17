import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// The agent's own memory (Snapshot.overhead) and a threshold event's threshold are stored and
/// come back in the host report.
@Suite struct AgentOverheadTests {
    @Test func overheadAndThresholdAreStoredAndReported() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            try await blocking {
                let agent = try TestAgent(port: port, hostName: "web-1")
                var first = makeSnapshot(sequence: 1)
                first.overhead.trackerBytes = 1_111
                first.overhead.agentHeapBytes = 2_222
                try agent.sendAndWait(first)
                var second = makeSnapshot(sequence: 2, defineStacks: false)
                second.overhead.trackerBytes = 3_333
                second.overhead.agentHeapBytes = 4_444
                var crossing = Leakwatch_V1_Event()
                crossing.kind = .thresholdWarning
                crossing.timestampUnixNanos = second.timestampUnixNanos
                crossing.value = 300_000_000
                crossing.thresholdBytes = 268_435_456
                crossing.message = "currentBytes normal -> warning"
                second.events = [crossing]
                try agent.sendAndWait(second)
            }
            let stored = try running.collector.sqliteStore.read { db in
                try Row.fetchAll(db, sql: "SELECT trackerBytes, agentHeapBytes FROM sample ORDER BY sequence").map { [$0[0] as Int64, $0[1] as Int64] }
            }
            #expect(stored == [[1_111, 2_222], [3_333, 4_444]])

            let client = try await blocking { try TestAgent(port: port, hostName: "laptop", role: .client) }
            let reply = try await blocking { try client.query(.hostReportRequest(.with { $0.requestID = 1; $0.host = "web-1" })) }
            guard case .hostReportResponse(let report) = reply else { Issue.record("got \(reply)"); return }
            #expect(report.latestOverhead.trackerBytes == 3_333, "the newest snapshot's")
            #expect(report.latestOverhead.agentHeapBytes == 4_444)
            let event = try #require(report.recentEvents.first)
            #expect(event.kind == .thresholdWarning)
            #expect(event.value == 300_000_000)
            #expect(event.thresholdBytes == 268_435_456)
        }
    }
}
