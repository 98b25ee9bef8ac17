import Foundation
import GRDB
import LeakCollector
import LeakTestSupport
import Logging
import Testing

@Suite struct StorageTests {
    let logger = Logger(label: "test")

    func snapshot(host: String = "web-1", instance: String = "aa", sequence: Int64, timestampMs: Int64,
                  bytesInUse: Int64 = 1000, sites: [(frames: String, live: Int64)] = []) -> SnapshotIngest {
        let definitions = sites.map { StackDefinition(frames: [StackFrame(address: 1, function: $0.frames)]) }
        return SnapshotIngest(
            process: ProcessIdentity(hostName: host, instanceKey: instance, serviceName: "api"),
            sequence: sequence, timestampMs: timestampMs,
            stats: SnapshotStats(bytesInUse: bytesInUse, residentBytes: bytesInUse * 2),
            newStacks: definitions,
            sites: zip(definitions, sites).map {
                SiteSample(stackDigest: $0.0.digest, liveBytesEstimate: $0.1.live, liveObjectsEstimate: 1, allocatedBytesTotal: $0.1.live)
            })
    }

    @Test func migrationsCreateEveryTableAndIntegrityHolds() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", logger: logger)
        let tables = try store.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        for table in ["host", "processInstance", "sample", "sampleRollup", "stack", "event", "verdict"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        let journal = try store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        #expect(try store.integrityCheck() == "ok")
        try store.close()
    }

    @Test func duplicateSnapshotIsIgnoredButReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", logger: logger)
        let first = snapshot(sequence: 1, timestampMs: 1_000, bytesInUse: 5, sites: [("f", 10)])
        #expect(try store.ingest([first]) == [.stored])
        var again = first
        again.stats.bytesInUse = 999  // a duplicate never overwrites
        #expect(try store.ingest([again, snapshot(sequence: 2, timestampMs: 2_000)]) == [.duplicate, .stored])
        let count = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") }
        #expect(count == 2)
        let kept = try store.read { db in try Int64.fetchOne(db, sql: "SELECT bytesInUse FROM sample WHERE sequence = 1") }
        #expect(kept == 5)
        #expect(try store.lastCommittedSequence(hostName: "web-1", instanceKey: "aa") == 2)
        try store.close()
    }

    @Test func restartIsANewInstanceAndStacksAreInternedOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", logger: logger)
        _ = try store.ingest([snapshot(instance: "aa", sequence: 1, timestampMs: 1_000, sites: [("f", 10), ("g", 20)])])
        _ = try store.ingest([snapshot(instance: "bb", sequence: 1, timestampMs: 2_000, sites: [("f", 30)])])
        let (instances, stacks) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM processInstance")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM stack")!)
        }
        #expect(instances == 2)
        #expect(stacks == 2)
        let host = try #require(try store.host(named: "web-1"))
        let window = try store.window(host: host, fromMs: 0, toMs: 10_000)
        #expect(window.points.map(\.bytesInUse) == [1000, 1000])
        #expect(Set(window.points.map(\.instanceId)).count == 2)
        #expect(window.sites.values.map(\.count).sorted() == [1, 2])
        try store.close()
    }

    @Test func retentionRollsRawIntoMinutesThenHoursAndKeepsFloors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // 1 h raw, 4 h of minutes, 1 day of hours.
        let configuration = StoreConfiguration(rawRetentionSeconds: 3600, minuteRetentionSeconds: 4 * 3600, hourRetentionSeconds: 24 * 3600)
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
        // 10 h of 10-second snapshots, with a sawtooth: floor 1000 + 100 per hour.
        let hourMs: Int64 = 3_600_000
        var batch: [SnapshotIngest] = []
        for index in 0..<(10 * 360) {
            let timestamp = Int64(index) * 10_000
            let floor = 1000 + 100 * (timestamp / hourMs)
            let bytes = floor + (index % 6 == 0 ? 0 : 50)
            batch.append(snapshot(sequence: Int64(index + 1), timestampMs: timestamp, bytesInUse: bytes, sites: [("f", bytes / 10)]))
        }
        _ = try store.ingest(batch)
        let nowMs = 10 * hourMs
        let report = try store.applyRetention(nowMs: nowMs, chunkSize: 500)
        #expect(report.rawSamplesRolledUp == 9 * 360)  // everything older than 1 h
        // Raw older than 1 h is gone; minute buckets from 6 h..9 h remain; hours before 6 h.
        let (raw, minutes, hours) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM sample")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM sampleRollup WHERE resolutionSeconds = 60")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM sampleRollup WHERE resolutionSeconds = 3600")!)
        }
        #expect(raw == 360)
        #expect(minutes == 3 * 60)
        #expect(hours == 6)
        let oldest = try #require(try store.read { db in
            try Row.fetchOne(db, sql: "SELECT pointCount, bytesInUseMin, bytesInUseMax FROM sampleRollup WHERE resolutionSeconds = 3600 ORDER BY bucketStartMs LIMIT 1")
        })
        #expect(oldest[0] as Int64 == 360)
        #expect(oldest[1] as Int64 == 1000)
        #expect(oldest[2] as Int64 == 1050)
        // The window reads every tier, in time order, with floors.
        let host = try #require(try store.host(named: "web-1"))
        let window = try store.window(host: host, fromMs: 0, toMs: nowMs)
        #expect(window.points.count == 6 + 180 + 360)
        #expect(window.points.map(\.timestampMs) == window.points.map(\.timestampMs).sorted())
        #expect(window.points.first?.bytesInUse == 1000)
        #expect(window.sites.first?.value.count == window.points.count)
        // Per-site values from a bounded, evenly spaced subset that ends at the newest point.
        let sparse = try store.window(host: host, fromMs: 0, toMs: nowMs, maximumSiteRows: 10)
        let sparseSite = try #require(sparse.sites.first?.value)
        #expect(sparseSite.count <= 10 && sparseSite.count >= 9)
        #expect(sparseSite.last?.timestampMs == window.points.last?.timestampMs)
        #expect(sparse.points.count == window.points.count)
        // A second pass is a no-op; later, hour buckets past a day are deleted.
        #expect(try store.applyRetention(nowMs: nowMs) == RetentionReport())
        let later = try store.applyRetention(nowMs: nowMs + 30 * hourMs)
        #expect(later.hourBucketsDeleted > 0)
        #expect(try store.integrityCheck() == "ok")
        try store.close()
    }

    @Test func retentionForgetsInstancesAndHostsWhoseDataHasExpired() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = StoreConfiguration(rawRetentionSeconds: 3600, minuteRetentionSeconds: 2 * 3600, hourRetentionSeconds: 4 * 3600)
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
        let hourMs: Int64 = 3_600_000
        func hour(host: String, instance: String, from startMs: Int64) -> [SnapshotIngest] {
            (0..<360).map { snapshot(host: host, instance: instance, sequence: Int64($0 + 1), timestampMs: startMs + Int64($0) * 10_000) }
        }
        // A decommissioned host, a restarted process's first run, and its second run.
        _ = try store.ingest(hour(host: "gone", instance: "old", from: 0))
        _ = try store.ingest(hour(host: "web-1", instance: "aa", from: 0))
        _ = try store.ingest(hour(host: "web-1", instance: "bb", from: 10 * hourMs))
        let counts = { try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM processInstance")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM host")!)
        } }
        #expect(try counts() == (3, 2))
        // Everything from the first hour has expired 4 h later plus the hour its bucket spans.
        #expect(try store.applyRetention(nowMs: 5 * hourMs).instancesDeleted == 0, "hour buckets of the first hour are still kept")
        let report = try store.applyRetention(nowMs: 11 * hourMs)
        #expect(report.instancesDeleted == 2)
        #expect(report.hostsDeleted == 1)
        #expect(try counts() == (1, 1))
        #expect(try store.hosts().map(\.name) == ["web-1"])
        #expect(try store.lastCommittedSequence(hostName: "web-1", instanceKey: "bb") == 360, "the live instance is untouched")
        #expect(try store.applyRetention(nowMs: 11 * hourMs) == RetentionReport(), "a second pass finds nothing")
        // The departed host reports again: it gets new rows, not the deleted ones' cached ids.
        #expect(try store.ingest([snapshot(host: "gone", instance: "old", sequence: 361, timestampMs: 11 * hourMs)]) == [.stored])
        #expect(try counts() == (2, 2))
        #expect(try store.integrityCheck() == "ok")
        try store.close()
    }

    @Test func lateSnapshotsMergeIntoExistingBuckets() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = StoreConfiguration(rawRetentionSeconds: 60)
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
        _ = try store.ingest([snapshot(sequence: 1, timestampMs: 0, bytesInUse: 500)])
        try store.applyRetention(nowMs: 3_600_000)
        // A spooled snapshot arrives late for the same minute.
        _ = try store.ingest([snapshot(sequence: 2, timestampMs: 30_000, bytesInUse: 300)])
        try store.applyRetention(nowMs: 3_600_000)
        let row = try #require(try store.read { db in
            try Row.fetchOne(db, sql: "SELECT pointCount, bytesInUseMin, bytesInUseLast FROM sampleRollup")
        })
        #expect(row[0] as Int64 == 2)
        #expect(row[1] as Int64 == 300)
        #expect(row[2] as Int64 == 300)
        try store.close()
    }

    @Test func batchWriterGroupsConcurrentSubmissionsAndRefusesAfterClose() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", logger: logger)
        let writer = BatchWriter(store: store, logger: logger)
        try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
            for index in 0..<500 {
                group.addTask {
                    try await writer.submit(self.snapshot(host: "h\(index % 10)", sequence: Int64(index + 1), timestampMs: Int64(index)))
                }
            }
            for try await outcome in group { #expect(outcome == .stored) }
        }
        let counters = writer.counters
        #expect(counters.snapshots == 500)
        #expect(counters.transactions < 500)
        await writer.close()
        await #expect(throws: StoreError.closed) {
            try await writer.submit(self.snapshot(sequence: 9999, timestampMs: 0))
        }
        try store.close()
    }
}
