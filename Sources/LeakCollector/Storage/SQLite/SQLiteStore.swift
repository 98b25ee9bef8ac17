import Foundation
import GRDB
import Logging

/// Owns the SQLite database (WAL mode, via one `DatabasePool`). Every read and write of the
/// collector goes through it.
public final class SQLiteStore: FleetStore {
    public let databasePath: String
    public let configuration: StoreConfiguration
    let pool: DatabasePool
    let logger: Logger
    /// Interning caches used only inside write transactions (serialised by the pool's writer).
    let writeCaches = Locked(WriteCaches())
    /// Stacks open agent connections have defined: never garbage-collected.
    public let stackPins = StackPins()

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    public init(path: String, configuration: StoreConfiguration = .init(), logger: Logger) throws {
        self.databasePath = path
        self.configuration = configuration
        self.logger = logger
        var grdbConfiguration = Configuration()
        let synchronous = configuration.synchronousFull ? "FULL" : "NORMAL"
        grdbConfiguration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // Reads through a memory map (no pread per page) and a 32 MiB page cache per connection.
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            try db.execute(sql: "PRAGMA cache_size = -32768")
        }
        grdbConfiguration.busyMode = .timeout(10)
        grdbConfiguration.maximumReaderCount = 4
        self.pool = try DatabasePool(path: path, configuration: grdbConfiguration)
        try Migrations.migrator().migrate(pool)
        logger.debug("store opened", metadata: ["leak.database": "\(path)"])
    }

    public var location: String { databasePath }

    /// The database file and its WAL: what the data directory's disk holds for it.
    public func storageBytes() throws -> Int64 {
        [databasePath, databasePath + "-wal"].reduce(0) { total, path in
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
            return total + (size ?? 0)
        }
    }

    /// Checkpoints the WAL and closes the database. Later calls on the store throw.
    public func close() throws {
        _ = try? pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        try pool.close()
        logger.debug("store closed", metadata: ["leak.database": "\(databasePath)"])
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try pool.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n")
        }
    }

    /// Runs `body` in a read transaction (a consistent snapshot of the database).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }
}
