import Foundation
import GRDB
@testable import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Logging
import Testing

/// Retention deletes the stacks nothing retained refers to, so a fleet that restarts (or deploys)
/// does not grow the stack table without bound.
@Suite struct StackCollectionTests {
    let logger = Logger(label: "test")
    static let hourMs: Int64 = 3_600_000

    static func definition(_ name: String) -> StackDefinition {
        StackDefinition(frames: [StackFrame(address: 0x1000, function: name, file: "\(name).swift", line: 1, image: "app")])
    }

    /// One snapshot per minute over [fromMs, toMs) with the named sites; stacks defined in the first.
    static func snapshots(host: String, instance: String, fromMs: Int64, toMs: Int64, sites: [String], defineStacks: Bool = true) -> [SnapshotIngest] {
        let definitions = sites.map(definition)
        return stride(from: fromMs, to: toMs, by: 60_000).enumerated().map { index, timestampMs in
            SnapshotIngest(
                process: ProcessIdentity(hostName: host, instanceKey: instance, serviceName: "api"),
                sequence: Int64(index + 1), timestampMs: timestampMs,
                stats: SnapshotStats(bytesInUse: 1_000_000, residentBytes: 2_000_000),
                newStacks: index == 0 && defineStacks ? definitions : [],
                sites: definitions.map {
                    SiteSample(stackDigest: $0.digest, liveBytesEstimate: 1000, liveObjectsEstimate: 1, allocatedBytesTotal: 1000)
                })
        }
    }

    func stackNames(_ store: SQLiteStore) throws -> [String] {
        try store.read { db in try String.fetchAll(db, sql: "SELECT frames FROM stack ORDER BY id") }
            .map { String(decoding: Data($0.utf8), as: UTF8.self) }
            .map { frames in ["old-1", "old-2", "verdict-only", "live", "shared", "late"].first { frames.contains("\"\($0)\"") } ?? frames }
    }

    /// Every stack id in every retained blob and verdict has its row.
    func danglingReferences(_ store: SQLiteStore) throws -> Set<Int64> {
        var referenced = Set<Int64>()
        for host in try store.hosts() {
            referenced.formUnion(try store.window(host: host, fromMs: .min / 2, toMs: .max / 2).sites.keys)
            if let verdict = try store.latestVerdict(hostId: host.id) { referenced.formUnion(verdict.decodedSites.map(\.stackId)) }
        }
        let existing = Set(try store.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM stack") })
        return referenced.subtracting(existing)
    }

    @Test func retentionDeletesOrphanedStacksKeepsReferencedOnesAndAGCdStackCanComeBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = StoreConfiguration(rawRetentionSeconds: 3600, minuteRetentionSeconds: 4 * 3600, hourRetentionSeconds: 24 * 3600)
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
        let hourMs = Self.hourMs
        // A process that ran in hour 0 and was replaced; its stacks are referenced by nothing once
        // its data expires, except "verdict-only", named by a verdict that is still kept.
        _ = try store.ingest(Self.snapshots(host: "web-1", instance: "aa", fromMs: 0, toMs: hourMs, sites: ["old-1", "old-2", "verdict-only", "shared"]))
        // The running process, hours 40-41.
        _ = try store.ingest(Self.snapshots(host: "web-1", instance: "bb", fromMs: 40 * hourMs, toMs: 41 * hourMs, sites: ["live", "shared"]))
        let verdictOnlyID = try #require(try store.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM stack WHERE frames LIKE '%verdict-only%'")
        })
        let host = try #require(try store.host(named: "web-1"))
        try store.storeVerdict(VerdictRecord(
            id: nil, hostId: host.id, evaluatedAtMs: 30 * hourMs, status: "growing", rateBytesPerHour: 1, sinceMs: nil,
            confidence: 0.5, summary: "test", sites: #"[{"stackId":\#(verdictOnlyID),"status":"growing","rateBytesPerHour":1,"liveBytes":1}]"#))
        #expect(try stackNames(store) == ["old-1", "old-2", "verdict-only", "shared", "live"])

        // Hour retention 24 h at hour 41: hour 0 is gone, and with it old-1 and old-2.
        let report = try store.applyRetention(nowMs: 41 * hourMs, chunkSize: 1)  // one stack per transaction
        #expect(report.hourBucketsDeleted == 1)
        #expect(report.stacksDeleted == 2)
        #expect(try stackNames(store) == ["verdict-only", "shared", "live"])
        #expect(try danglingReferences(store).isEmpty)
        #expect(try store.applyRetention(nowMs: 41 * hourMs).stacksDeleted == 0, "a second pass finds nothing")

        // The writer had old-1 and old-2 cached. Referring to old-2 by digest alone must now fail
        // (the row is gone: a stale cached id would store a dangling reference), and fail alone.
        var withoutDefinition = Self.snapshots(host: "web-1", instance: "bb", fromMs: 41 * hourMs, toMs: 41 * hourMs + 60_000, sites: ["old-2"], defineStacks: false)
        withoutDefinition[0].sequence = 100
        #expect(throws: StoreError.unknownStack) { try store.ingest(withoutDefinition) }
        #expect(try store.lastCommittedSequence(hostName: "web-1", instanceKey: "bb") == 60, "nothing of it was stored")
        let stillLive = Self.snapshots(host: "web-1", instance: "bb", fromMs: 41 * hourMs, toMs: 41 * hourMs + 60_000, sites: ["live"], defineStacks: false)
        var next = stillLive[0]
        next.sequence = 61
        #expect(try store.ingest([next]) == [.stored], "cached live stacks still work after a collection")
        // Defined again (a new process runs that code), it is interned afresh and works.
        var returning = Self.snapshots(host: "web-1", instance: "cc", fromMs: 41 * hourMs, toMs: 41 * hourMs + 120_000, sites: ["old-1"])
        #expect(try store.ingest(returning) == [.stored, .stored])
        #expect(try stackNames(store) == ["verdict-only", "shared", "live", "old-1"])
        #expect(try danglingReferences(store).isEmpty)
        // And the ids the writer now caches are the new rows: a snapshot without definitions works.
        returning = Self.snapshots(host: "web-1", instance: "cc", fromMs: 41 * hourMs + 120_000, toMs: 41 * hourMs + 180_000, sites: ["old-1"], defineStacks: false)
        returning[0].sequence = 3
        #expect(try store.ingest(returning) == [.stored])
        #expect(try danglingReferences(store).isEmpty)

        // Once the verdict expires too, its stack goes; stacks of retained data stay.
        let later = try store.applyRetention(nowMs: 54 * hourMs + 1)
        #expect(later.verdictsDeleted == 1)
        #expect(try stackNames(store) == ["shared", "live", "old-1"])
        #expect(try danglingReferences(store).isEmpty)
        #expect(try store.integrityCheck() == "ok")
        try store.close()
    }

    @Test func aStackDefinedOnAnOpenConnectionIsKeptUntilTheConnectionCloses() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path) {
            $0.store.rawRetentionSeconds = 60
            $0.store.minuteRetentionSeconds = 60
            $0.store.hourRetentionSeconds = 3600
        }.use { running in
            let store = running.collector.sqliteStore
            let port = running.port
            // An agent defines three stacks in its first snapshot (a day ago), then sends nothing.
            let agent = try await blocking { try TestAgent(port: port, hostName: "web-1") }
            let dayAgoNanos = Int64(Date().timeIntervalSince1970 - 86_400) * 1_000_000_000
            try await blocking { _ = try agent.sendAndWait(makeSnapshot(sequence: 1, timestampNanos: dayAgoNanos, siteCount: 3)) }
            #expect(store.stackPins.count == 3)
            let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
            let first = try store.applyRetention(nowMs: nowMs)
            #expect(first.hourBucketsDeleted == 1, "the snapshot expired")
            #expect(first.stacksDeleted == 0, "the connection may still refer to its stacks by id")

            // It does: a site by id alone, no frames. Stored, acknowledged, with a stack row behind it.
            let sequence = try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 2, siteCount: 3, defineStacks: false)) }
            #expect(sequence == 2)
            #expect(try danglingReferences(store).isEmpty)
            #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack") } == 3)

            // Closed, and its data expired: the stacks go.
            agent.connection.close()
            try #require(await waitUntil(seconds: 10) { store.stackPins.count == 0 })
            let later = try store.applyRetention(nowMs: nowMs + 3 * Self.hourMs)
            #expect(later.stacksDeleted == 3)
            #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack") } == 0)
        }
    }

    @Test func collectionRunningDuringIngestNeverLeavesADanglingStackID() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = StoreConfiguration(rawRetentionSeconds: 60, minuteRetentionSeconds: 60, hourRetentionSeconds: 3600)
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
        let writer = BatchWriter(store: store, maximumBatchSize: 16, logger: logger)
        // Snapshots a day old: expired as soon as they are written, so every retention pass
        // deletes them and wants their stacks. "pinned-*" are defined once, as a connection does
        // (and pinned, as the connection's translator does); "churn-*" come with their frames in
        // every snapshot, so they are deleted and interned again over and over.
        let pinned = (0..<3).map { Self.definition("pinned-\($0)") }
        let churn = (0..<5).map { Self.definition("churn-\($0)") }
        let lease = store.stackPins.lease()
        lease.pin(pinned.map(\.digest))
        let dayAgoMs = Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000
        let collecting = Locked(true)
        let collected = Locked<Result<Int, any Error>?>(nil)
        // A thread, not a task: it starts now even while other tests hold the concurrency pool.
        Thread.detachNewThread {
            let result = Result { () throws -> Int in
                var deleted = 0
                while collecting.withLock({ $0 }) {
                    deleted += try store.applyRetention(nowMs: Int64(Date().timeIntervalSince1970 * 1000), chunkSize: 2).stacksDeleted
                }
                return deleted
            }
            collected.withLock { $0 = result }
        }
        defer { collecting.withLock { $0 = false } } // also when ingest throws
        try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
            for index in 0..<1500 {
                group.addTask {
                    let all = pinned + churn
                    return try await writer.submit(SnapshotIngest(
                        process: ProcessIdentity(hostName: "web-\(index % 3)", instanceKey: "aa"),
                        sequence: Int64(index + 1), timestampMs: dayAgoMs + Int64(index) * 1000,
                        stats: SnapshotStats(bytesInUse: 1000),
                        newStacks: index < 3 ? all : churn,
                        sites: all.map { SiteSample(stackDigest: $0.digest, liveBytesEstimate: 1, liveObjectsEstimate: 1, allocatedBytesTotal: 1) }))
                }
                if index == 2 { for try await outcome in group { #expect(outcome == .stored) } }  // pinned ones exist first
            }
            for try await outcome in group { #expect(outcome == .stored) }
        }
        await writer.close()
        collecting.withLock { $0 = false }
        try #require(await waitUntil(seconds: 30) { collected.withLock { $0 } != nil })
        let deleted = try collected.withLock { $0! }.get()
        #expect(deleted > 0, "collection ran while snapshots were written")
        // A fresh snapshot (kept by retention) after the last collection, which deleted the
        // churn stacks: it must intern them again, not reuse ids the writer had cached.
        let all = pinned + churn
        let fresh = SnapshotIngest(
            process: ProcessIdentity(hostName: "web-0", instanceKey: "aa"), sequence: 10_000,
            timestampMs: Int64(Date().timeIntervalSince1970 * 1000), stats: SnapshotStats(bytesInUse: 1000), newStacks: churn,
            sites: all.map { SiteSample(stackDigest: $0.digest, liveBytesEstimate: 1, liveObjectsEstimate: 1, allocatedBytesTotal: 1) })
        #expect(try store.ingest([fresh]) == [.stored])
        #expect(try danglingReferences(store).isEmpty)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack WHERE frames LIKE '%pinned-%'") } == 3)
        withExtendedLifetime(lease) {}
        try store.close()
    }

    @Test func migrationKeepsStacksOfAnExistingDatabaseUntilItsNewestDataExpires() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/db.sqlite"
        // A database as the previous release left it: every v1 migration, no stack.lastSeenMs.
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator().migrate(queue, upTo: "v1-verdicts")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO host VALUES (1, 'web-1', 'api', 0, 0);
                INSERT INTO processInstance (id, hostId, instanceKey, serviceName, processId, startedAtMs, firstSeenMs, lastSeenMs)
                    VALUES (1, 1, 'aa', 'api', 1, 0, 0, 0);
                INSERT INTO stack VALUES (1, x'00', 1, '[]', NULL, 1000);
                INSERT INTO sample (instanceId, sequence, hostId, timestampMs, bytesAllocatedTotal, bytesInUse, peakBytesInUse,
                    allocationCount, freeCount, blocksOutstanding, residentBytes, uptimeSeconds, sites, patterns)
                    VALUES (1, 1, 1, 5000000, 0, 0, 0, 0, 0, 0, 0, 0, x'', x'');
                """)
        }
        try queue.close()
        let store = try SQLiteStore(path: path, logger: logger)
        // Nothing says which stacks the old blobs refer to: all are kept as long as the newest data.
        #expect(try store.read { db in try Int64.fetchOne(db, sql: "SELECT lastSeenMs FROM stack") } == 5_000_000)
        #expect(try store.collectStacks(notReferencedSinceMs: 4_000_000) == 0)
        #expect(try store.collectStacks(notReferencedSinceMs: .max) == 0, "the sample at 5,000,000 still holds it")
        try store.close()
    }
}
