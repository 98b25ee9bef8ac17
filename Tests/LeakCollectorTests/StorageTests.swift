import Foundation
import GRDB
import LeakCollector
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
        let store = try CollectorStore(path: directory.path + "/db.sqlite", logger: logger)
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
        let store = try CollectorStore(path: directory.path + "/db.sqlite", logger: logger)
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
        let store = try CollectorStore(path: directory.path + "/db.sqlite", logger: logger)
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
        var configuration = StoreConfiguration()
        configuration.rawRetentionSeconds = 3600        // 1 h raw
        configuration.minuteRetentionSeconds = 4 * 3600 // 4 h of minutes
        configuration.hourRetentionSeconds = 24 * 3600  // 1 day of hours
        let store = try CollectorStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
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
        // A second pass is a no-op; later, hour buckets past a day are deleted.
        #expect(try store.applyRetention(nowMs: nowMs) == RetentionReport())
        let later = try store.applyRetention(nowMs: nowMs + 30 * hourMs)
        #expect(later.hourBucketsDeleted > 0)
        #expect(try store.integrityCheck() == "ok")
        try store.close()
    }

    @Test func lateSnapshotsMergeIntoExistingBuckets() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = StoreConfiguration()
        configuration.rawRetentionSeconds = 60
        let store = try CollectorStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
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
        let store = try CollectorStore(path: directory.path + "/db.sqlite", logger: logger)
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
