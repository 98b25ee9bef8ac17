import Foundation
import GRDB
import LeakAgent
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Synchronization
import Testing

/// The real shipper against the real collector when some snapshots can never be accepted: each
/// is dropped and counted once, never resent, and shipping goes on over the same connection.
@Suite struct ShipperRejectionTests {
    @Test func theShipperDropsARejectedSnapshotAndGoesOn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let configuration = ShipperConfiguration(
                collectorHost: "127.0.0.1", collectorPort: running.port, token: testToken, hostName: "half-broken",
                serviceName: "api", intervalSeconds: 0.05, backoffMinimumSeconds: 0.05, backoffMaximumSeconds: 0.2)
            let taken = Atomic<UInt64>(0)
            let shipper = Shipper(configuration: configuration) {
                let count = taken.add(1, ordering: .relaxed).newValue
                var snapshot = Wire.Snapshot(makeSnapshot(sequence: count, siteCount: 3))
                snapshot.timestampUnixNanos = 0  // the shipper stamps it
                // Every third snapshot has the uptime issue 15 found wedging an agent for good.
                if count % 3 == 0 { snapshot.stats.uptimeSeconds = .nan }
                return snapshot
            }
            shipper.start()
            let shipped = await waitUntil(seconds: 20) {
                let statistics = shipper.statistics
                return statistics.snapshotsRejected >= 5 && statistics.snapshotsAcknowledged >= 12
            }
            #expect(shipper.stop())
            try #require(shipped, "\(shipper.statistics)")
            let statistics = shipper.statistics
            #expect(statistics.connectionsEstablished == 1, "a rejection is no reason to reconnect")
            #expect(statistics.connectionFailures == 0)
            #expect(statistics.lastError?.contains("stats.uptime_seconds") == true, "\(statistics.lastError ?? "")")
            #expect(statistics.snapshotsSent <= statistics.snapshotsTaken, "nothing was resent")

            let sequences = try running.collector.sqliteStore.read { db in
                try Int64.fetchAll(db, sql: "SELECT sequence FROM sample ORDER BY sequence")
            }
            #expect(sequences.allSatisfy { $0 % 3 != 0 }, "a rejected snapshot was stored: \(sequences)")
            #expect(sequences.count >= 10)
        }
    }
}
