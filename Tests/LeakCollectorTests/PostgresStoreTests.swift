import Foundation
@testable import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Logging
import PostgresNIO
import Testing

/// What is PostgreSQL's own: the URL, named migrations shared by collectors, hourly raw
/// partitions that retention drops whole. The contract both backends keep is FleetStoreTests'.
@Suite struct PostgresStoreTests {
    static let hourMs: Int64 = 3_600_000

    @Test func storeURLsAreParsedAndBadOnesSayWhatIsMissing() throws {
        let location = try PostgresLocation(url: "postgres://fleet:secret@db.example:6543/leakwatch?sslmode=require", environment: [:])
        #expect(location == PostgresLocation(host: "db.example", port: 6543, user: "fleet", password: "secret", database: "leakwatch", requiresTLS: true))
        #expect(location.description == "postgres://fleet@db.example:6543/leakwatch?sslmode=require", "no password in logs")
        let fromEnvironment = try PostgresLocation(url: "postgresql://fleet@db/leakwatch", environment: ["PGPASSWORD": "p"])
        #expect(fromEnvironment.port == 5432 && fromEnvironment.password == "p" && !fromEnvironment.requiresTLS)
        #expect(try StoreLocation(parsing: "sqlite") == .sqlite)
        for (text, expected) in [
            ("mysql://fleet@db/leakwatch", "neither 'sqlite' nor a postgres:// URL"),
            ("postgres://db.example/leakwatch", "names no user"),
            ("postgres://fleet@db.example", "names no database"),
            ("postgres://fleet@db.example/leakwatch?sslmode=verify-full", "sslmode=require or sslmode=disable"),
        ] {
            let error = #expect(throws: ConfigurationError.self) { try StoreLocation(parsing: text) }
            #expect(error?.description.contains(expected) == true, "\(text): \(error?.description ?? "")")
        }
    }

    @Test func aServerThatDoesNotAnswerIsAClearErrorAtOpen() throws {
        let port = try closedPort()
        let location = try PostgresLocation(url: "postgres://leakwatch@127.0.0.1:\(port)/leakwatch", environment: [:])
        let error = #expect(throws: PostgresStoreError.self) { try PostgresStore(location: location, logger: Logger(label: "test")) }
        #expect(error?.description.contains("cannot open the store at postgres://leakwatch@127.0.0.1:\(port)/leakwatch") == true,
                "\(error?.description ?? "")")
    }

    @Test func migrationsAreNamedAndRunOnceWhenCollectorsStartTogether() async throws {
        let location = try StoreLocation(parsing: try await TemporaryPostgres.shared.database())
        guard case .postgres(let postgres) = location else { Issue.record("not postgres"); return }
        // Three collectors starting on one empty database at the same moment.
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<3 { group.addTask { try await blocking { try PostgresStore(location: postgres, logger: Logger(label: "test")) } } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { for store in stores { try? store.close() } }
        let names = try stores[0].connections.withConnection { connection in
            try connection.run("SELECT name FROM leakwatchMigration ORDER BY name").map { row in
                var columns = PostgresColumns(row)
                return try columns.next(String.self)
            }
        }
        #expect(names == PostgresMigrations.all.map(\.name))
        #expect(try PostgresMigrations.migrate(stores[1].connections).isEmpty, "nothing left to apply")
    }

    @Test func rawSnapshotsLiveInHourlyPartitionsThatRetentionDropsWhole() async throws {
        let configuration = StoreConfiguration(rawRetentionSeconds: 2 * 3600)
        try await StoreBackend.postgres.open(configuration).use { fleetStore in
            let store = try #require(fleetStore as? PostgresStore)
            let hourMs = Self.hourMs
            let batch = (0..<(5 * 60)).map { index in
                FleetStoreTests.snapshot(sequence: Int64(index + 1), timestampMs: Int64(index) * 60_000)
            }
            _ = try store.ingest(batch)
            func partitions() throws -> [Int64] {
                try store.connections.withConnection { try PostgresPartitions.existing($0) }.filter { $0 < 100 }
            }
            #expect(try partitions() == [0, 1, 2, 3, 4], "one partition per hour of snapshot time, made on demand")
            func rows(in index: Int64) throws -> Int64 {
                try store.connections.withConnection { connection in
                    try connection.scalar(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(PostgresPartitions.name(index))"), as: Int64.self) ?? 0
                }
            }
            #expect(try rows(in: 3) == 60)
            // At 5 h 30 min, raw data older than 3 h 30 min has expired: hours 0, 1 and 2 end before it.
            let report = try store.applyRetention(nowMs: 5 * hourMs + 30 * 60_000)
            #expect(report.rawSamplesRolledUp == 3 * 60)
            #expect(try partitions() == [3, 4, 5, 6, 7, 8], "expired hours dropped; the maintenance pass made the next ones")
            let host = try #require(try store.host(named: "web-1"))
            let window = try store.window(host: host, fromMs: 0, toMs: 5 * hourMs)
            #expect(window.points.count == 5 * 60)
            #expect(window.points.filter { $0.timestampMs >= 3 * hourMs }.count == 2 * 60, "hours 3 and 4 still raw")
            // A collector that starts later knows the partitions from the database.
            var reopened = CollectorConfiguration()
            reopened.storeLocation = .postgres(store.postgres)
            let second = try #require(try openStore(reopened, logger: Logger(label: "test")) as? PostgresStore)
            defer { try? second.close() }
            #expect(try second.ingest([FleetStoreTests.snapshot(sequence: 1000, timestampMs: 4 * hourMs + 1)]) == [.stored])
            #expect(try rows(in: 4) == 61)
        }
    }

    @Test func eachHostIsJudgedByExactlyOneLiveCollectorAndADeadOnesShareMovesAtOnce() async throws {
        let location = try StoreLocation(parsing: try await TemporaryPostgres.shared.database())
        guard case .postgres(let postgres) = location else { Issue.record("not postgres"); return }
        let stores = try await blocking { try (0..<3).map { _ in try PostgresStore(location: postgres, logger: Logger(label: "test")) } }
        defer { for store in stores { try? store.close() } }
        let hosts = (0..<60).map { HostRecord(id: Int64($0), name: "host-\($0)", serviceName: "api", firstSeenMs: 0, lastSeenMs: 0) }
        func shares(_ live: [PostgresStore]) throws -> [[String]] { try live.map { try $0.verdictShare(of: hosts).map(\.name) } }
        let three = try shares(stores)
        #expect(three.map(\.count).reduce(0, +) == hosts.count, "every host once: \(three.map(\.count))")
        #expect(Set(three.flatMap { $0 }).count == hosts.count)
        #expect(three.allSatisfy { !$0.isEmpty }, "each collector judges a share")
        // The third collector dies: its session ends, and the next pass of the others covers its hosts.
        try stores[2].close()
        let two = try shares(Array(stores.prefix(2)))
        #expect(Set(two.flatMap { $0 }) == Set(hosts.map(\.name)))
        #expect(two.map(\.count).reduce(0, +) == hosts.count)
        // Rendezvous hashing: a survivor keeps what it had, and gains only the dead one's hosts.
        #expect(Set(three[0]).isSubset(of: Set(two[0])) && Set(three[1]).isSubset(of: Set(two[1])))
        // Alone, a collector judges everything.
        try stores[1].close()
        #expect(try stores[0].verdictShare(of: hosts).count == hosts.count)
    }
}
