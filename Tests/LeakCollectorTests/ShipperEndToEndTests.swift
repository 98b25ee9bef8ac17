import Foundation
import GRDB
import LeakAgent
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// The real agent shipper against the real collector, across a collector restart.
@Suite struct ShipperEndToEndTests {
    @Test func shipperResumesAfterCollectorRestartWithoutLossOrDuplicates() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { first in
            let port = first.port
            let configuration = ShipperConfiguration(
                collectorHost: "127.0.0.1", collectorPort: port, token: testToken, hostName: "shipped", serviceName: "api",
                intervalSeconds: 0.05, backoffMinimumSeconds: 0.05, backoffMaximumSeconds: 0.2)
            let shipper = Shipper(configuration: configuration) {
                var snapshot = Wire.Snapshot(makeSnapshot(sequence: 0, siteCount: 5))
                snapshot.timestampUnixNanos = 0  // the shipper stamps it
                return snapshot
            }
            shipper.start()
            try #require(await waitUntil(seconds: 20) { shipper.statistics.snapshotsAcknowledged >= 20 })
            try await first.stop()

            // Same port, same data: the shipper reconnects, learns the last committed sequence from
            // Welcome and resends what was spooled meanwhile.
            try await TestCollector.start(dataDirectory: directory.path) { $0.listenPort = port }.use { second in
                let acknowledgedBefore = shipper.statistics.snapshotsAcknowledged
                try #require(await waitUntil(seconds: 20) { shipper.statistics.snapshotsAcknowledged >= acknowledgedBefore + 20 })
                #expect(shipper.stop())
                let statistics = shipper.statistics
                #expect(statistics.connectionsEstablished >= 2)
                #expect(statistics.snapshotsDropped == 0)

                let sequences = try second.collector.sqliteStore.read { db in
                    try Int64.fetchAll(db, sql: "SELECT sequence FROM sample ORDER BY sequence")
                }
                #expect(Set(sequences).count == sequences.count, "duplicates stored")
                let highest = try #require(sequences.last)
                #expect(sequences == Array(1...highest), "gaps in the stored sequences")
                #expect(UInt64(highest) >= statistics.snapshotsAcknowledged)
                #expect(try second.collector.store.hosts().map(\.name) == ["shipped"])
            }
        }
    }

    /// What a process about to die of a memory error relies on: a snapshot taken on demand and
    /// acknowledged before `shipNowAndWait` returns, long before the next interval; and a prompt
    /// false, not the whole wait, when the collector cannot be reached.
    @Test func shipNowAndWaitReturnsOnceTheCollectorHasTheSnapshot() async throws {
        try await TestCollector.start().use { collector in
            let configuration = ShipperConfiguration(
                collectorHost: "127.0.0.1", collectorPort: collector.port, token: testToken, hostName: "dying", serviceName: "api",
                intervalSeconds: 3600, minimumImmediateSpacingSeconds: 0)
            let shipper = Shipper(configuration: configuration) {
                var snapshot = Wire.Snapshot(makeSnapshot(sequence: 0, siteCount: 1))
                snapshot.timestampUnixNanos = 0
                return snapshot
            }
            shipper.start()
            defer { shipper.stop() }
            try #require(await waitUntil(seconds: 20) { shipper.statistics.snapshotsAcknowledged >= 1 })
            let delivered = try await blocking { shipper.shipNowAndWait(seconds: 10) }
            #expect(delivered)
            let stored = try collector.collector.sqliteStore.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") }
            #expect(stored == 2, "the first interval's snapshot and the one shipped now, committed before the return")
        }

        let unreachable = Shipper(configuration: ShipperConfiguration(
            collectorHost: "127.0.0.1", collectorPort: try closedPort(), token: testToken, intervalSeconds: 3600,
            minimumImmediateSpacingSeconds: 0, backoffMinimumSeconds: 0.05, backoffMaximumSeconds: 0.05)) { Wire.Snapshot() }
        unreachable.start()
        defer { unreachable.stop() }
        let started = ContinuousClock.now
        let delivered = try await blocking { unreachable.shipNowAndWait(seconds: 10) }
        #expect(!delivered)
        #expect(ContinuousClock.now - started < .seconds(5), "a refused connection ends the wait")
    }
}
