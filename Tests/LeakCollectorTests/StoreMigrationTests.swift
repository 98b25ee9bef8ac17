import Foundation
@testable import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Logging
import PostgresNIO
import Testing

/// `collector migrate`: a SQLite store copied into PostgreSQL reads the same, and an interrupted
/// copy resumes.
@Suite struct StoreMigrationTests {
    @Test func aSQLiteStoreCopiedIntoPostgresReadsTheSameAndAnInterruptedCopyResumes() async throws {
        let logger = Logger(label: "test")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = try SQLiteStore(path: directory.path + "/leakwatch.sqlite", logger: logger)
        defer { try? source.close() }
        let hourMs = FleetStoreTests.hourMs
        // Three hosts, two hours of snapshots with sites, one hour rolled up, a verdict, a memory error.
        var batch: [SnapshotIngest] = []
        for host in ["a", "b", "c"] {
            for index in 0..<720 {
                batch.append(FleetStoreTests.snapshot(host: host, sequence: Int64(index + 1), timestampMs: Int64(index) * 10_000,
                                                      bytesInUse: 1000 + Int64(index), sites: [("f-\(host)", Int64(index)), ("g", 5)]))
            }
        }
        var withError = FleetStoreTests.snapshot(host: "a", sequence: 10_000, timestampMs: 2 * hourMs, sites: [("f-a", 1)])
        withError.memoryErrors = [MemoryErrorSample(timestampMs: 2 * hourMs, kind: "doubleFree", access: "free", faultAddress: .max,
                                                    recovered: false, allocationStack: withError.newStacks[0].digest)]
        batch.append(withError)
        _ = try source.ingest(batch)
        let a = try #require(try source.host(named: "a"))
        try source.storeVerdict(VerdictRecord(id: nil, hostId: a.id, evaluatedAtMs: 2 * hourMs, status: "growing", rateBytesPerHour: 360,
                                              sinceMs: 0, confidence: 0.9, summary: "grows", sites: "[]"))
        var configuration = StoreConfiguration()
        configuration.rawRetentionSeconds = 3600
        _ = try SQLiteStore(path: directory.path + "/leakwatch.sqlite", configuration: configuration, logger: logger)
            .applyRetention(nowMs: 2 * hourMs)

        let url = try await TemporaryPostgres.shared.database()
        guard case .postgres(let location) = try StoreLocation(parsing: url) else { Issue.record("not postgres"); return }
        let target = try PostgresStore(location: location, logger: logger)
        defer { try? target.close() }
        let first = try StoreMigration.copy(from: source, to: target)
        #expect(first.mismatches.isEmpty, "\(first.mismatches)")
        #expect(first.rowsCompared > 200)
        #expect(first.tables.allSatisfy { $0.source == $0.target }, "\(first.tables)")
        #expect(first.count("sample", \.source) == 3 * 360 + 1)
        #expect(first.count("sampleRollup", \.source) == 3 * 60)
        #expect(first.count("memoryError", \.source) == 1)
        // The copy reads as the original does.
        #expect(try target.hosts() == source.hosts())
        for host in try source.hosts() {
            let expected = try source.window(host: host, fromMs: 0, toMs: 3 * hourMs)
            let actual = try target.window(host: host, fromMs: 0, toMs: 3 * hourMs)
            #expect(actual.points == expected.points && actual.sites == expected.sites && actual.instanceKeys == expected.instanceKeys)
        }
        #expect(try target.latestVerdicts().mapValues(\.summary) == source.latestVerdicts().mapValues(\.summary))
        #expect(try target.memoryErrors(hostId: a.id, fromMs: 0, limit: 5) == source.memoryErrors(hostId: a.id, fromMs: 0, limit: 5))

        // Interrupted half-way through the samples (their newest rows never arrived, nothing after them
        // was copied): the second run copies exactly what is missing.
        try target.connections.withConnection { connection in
            try connection.run("DELETE FROM sample WHERE id > 500")
            try connection.run("DELETE FROM memoryError")
            try connection.run("DELETE FROM verdict")
        }
        let kept = try target.connections.withConnection { try $0.scalar("SELECT count(*) FROM sample", as: Int64.self) } ?? 0
        #expect(kept > 0 && kept < 3 * 360)
        let second = try StoreMigration.copy(from: source, to: target)
        #expect(second.mismatches.isEmpty, "\(second.mismatches)")
        #expect(second.count("sample", \.copied) == 3 * 360 + 1 - kept)
        #expect(second.count("host", \.copied) == 0, "copied hosts are not read again")
        // After the copy, collectors on PostgreSQL go on: new rows get ids past the copied ones.
        #expect(try target.ingest([FleetStoreTests.snapshot(host: "d", sequence: 1, timestampMs: 2 * hourMs, sites: [("new", 1)])]) == [.stored])
        #expect(try target.host(named: "d")?.id == 4)

        // A copy that does not match its source says so.
        try target.connections.withConnection { connection in try connection.run("UPDATE host SET serviceName = 'changed' WHERE name = 'b'") }
        let tampered = try StoreMigration.copy(from: source, to: target)
        #expect(tampered.mismatches.contains("the hosts differ"), "\(tampered.mismatches)")
        #expect(tampered.mismatches.contains { $0.hasPrefix("host: 3 rows in SQLite, 4 in PostgreSQL") }, "\(tampered.mismatches)")
    }
}

@Suite struct MigrateCommandTests {
    @Test func collectorMigrateCopiesAndVerifiesAndBadArgumentsSayWhatToPass() async throws {
        let collector = try BuiltProducts.executable("collector")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = try await ChildProcess.run(collector, ["migrate", "--from", directory.path, "--to", "postgres://x@127.0.0.1/db"])
        #expect(missing.status == 64)
        #expect(missing.standardError.contains("no SQLite store at \(directory.path)/leakwatch.sqlite: pass the data directory"), "\(missing.summary)")
        let store = try SQLiteStore(path: directory.path + "/leakwatch.sqlite", logger: Logger(label: "test"))
        _ = try store.ingest([FleetStoreTests.snapshot(sequence: 1, timestampMs: 1_000, sites: [("f", 1)])])
        try store.close()
        let notPostgres = try await ChildProcess.run(collector, ["migrate", "--from", directory.path, "--to", "sqlite"])
        #expect(notPostgres.status == 64)
        #expect(notPostgres.standardError.contains("--to must be a postgres:// URL"), "\(notPostgres.summary)")
        let url = try await TemporaryPostgres.shared.database()
        let copied = try await ChildProcess.run(collector, ["migrate", "--from", directory.path, "--to", url])
        #expect(copied.status == 0, "\(copied.summary)")
        #expect(copied.standardOutput.contains("sample: 1 rows copied, 1 of 1 in PostgreSQL"), "\(copied.summary)")
        #expect(copied.standardOutput.contains("verified:"))
    }
}

extension StoreMigration.Report {
    func count(_ table: String, _ figure: KeyPath<StoreMigration.TableCount, Int64>) -> Int64 {
        tables.first { $0.table == table }.map { $0[keyPath: figure] } ?? -1
    }
}
