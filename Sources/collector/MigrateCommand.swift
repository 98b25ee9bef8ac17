import ArgumentParser
import Foundation
import LeakCollector
import Logging

/// `collector migrate --from ./leakwatch-data --to postgres://leakwatch@db:5432/leakwatch`
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a SQLite store into PostgreSQL, keeping its history.",
        discussion: """
            Stop the collector that uses DATA first, and start the collectors on PostgreSQL after. \
            The copy is resumable: run the same command again after an interruption and it goes on \
            where it stopped. It ends by comparing row counts and a sample of rows; it exits \
            non-zero if they differ.
            """)

    @Option(name: .customLong("from"), help: "Data directory holding leakwatch.sqlite.")
    var dataDirectory: String

    @Option(name: .customLong("to"), help: "postgres://USER@HOST:PORT/DATABASE (password from PGPASSWORD).")
    var store: String

    func run() throws {
        var configuration = CollectorConfiguration()
        configuration.dataDirectory = dataDirectory
        guard FileManager.default.fileExists(atPath: configuration.databasePath) else {
            throw ValidationError("no SQLite store at \(configuration.databasePath): pass the data directory the collector used (--data)")
        }
        guard case .postgres(let location) = try StoreLocation(parsing: store) else {
            throw ValidationError("--to must be a postgres:// URL, e.g. postgres://leakwatch@db.example:5432/leakwatch")
        }
        let logger = Logger(label: "leakwatch.migrate")
        let source = try SQLiteStore(path: configuration.databasePath, logger: logger)
        defer { try? source.close() }
        let target = try PostgresStore(location: location, logger: logger)
        defer { try? target.close() }
        let report = try StoreMigration.copy(from: source, to: target) { print($0) }
        print("compared \(report.rowsCompared) rows read back from both stores")
        guard report.mismatches.isEmpty else {
            throw ValidationError("the copy does not match its source: \(report.mismatches.joined(separator: "; ")); run the command again to resume")
        }
        print("verified: \(location.description) holds everything \(configuration.databasePath) does")
    }
}
