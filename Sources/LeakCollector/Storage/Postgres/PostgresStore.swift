import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The fleet store on PostgreSQL: what several collectors share. Same tables and columns as
/// `SQLiteStore`, raw snapshots partitioned by hour (`PostgresPartitions`).
///
/// Each collector keeps its own interning caches and stack pins; what they share is in the
/// database: a host's sequence (Welcome), its verdicts, its series.
public final class PostgresStore: FleetStore {
    public let postgres: PostgresLocation
    public let configuration: StoreConfiguration
    public let stackPins = StackPins()
    let connections: PostgresConnections
    let logger: Logger
    /// Interning caches used only inside this collector's write transactions, under this lock.
    let writeCaches = Locked(WriteCaches())
    /// Hourly partitions known to exist: ingest creates one before writing into it only when absent.
    let knownPartitions = Locked(Set<Int64>())
    /// This collector's place among those sharing the database.
    let membership: PostgresMembership

    /// Connects, runs pending migrations, creates the partitions of the hours around now, and joins
    /// the collectors sharing the database.
    public init(
        location: PostgresLocation, configuration: StoreConfiguration = .init(), logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.postgres = location
        self.configuration = configuration
        self.logger = logger
        self.connections = try PostgresConnections(location: location, group: group, logger: logger)
        self.membership = PostgresMembership(logger: logger)
        do {
            let applied = try PostgresMigrations.migrate(connections)
            if !applied.isEmpty { logger.info("store migrated", metadata: ["leak.migrations": "\(applied.joined(separator: ", "))"]) }
            try createPartitionsAhead(nowMs: Int64(Date().timeIntervalSince1970 * 1000))
            // A member from the start: the others' next verdict pass leaves it its share.
            _ = try membership.members(connections)
        } catch {
            connections.close()
            throw PostgresStoreError(message: "cannot open the store at \(location.description): \(PostgresStoreError(error))")
        }
        logger.debug("store opened", metadata: ["leak.database": "\(location.description)"])
    }

    public var location: String { postgres.description }

    public func close() throws {
        membership.leave()
        connections.close()
        logger.debug("store closed", metadata: ["leak.database": "\(location)"])
    }

    public func verdictShare(of hosts: [HostRecord]) throws -> [HostRecord] {
        try membership.share(of: hosts, connections: connections)
    }

    public func storageBytes() throws -> Int64 {
        try connections.withConnection { connection in
            try connection.scalar("SELECT pg_database_size(current_database())", as: Int64.self) ?? 0
        }
    }

    /// How many hourly partitions the maintenance pass keeps created ahead of now.
    static let partitionsAhead: Int64 = 3

    /// Creates the partitions from the previous hour to `partitionsAhead` hours ahead.
    func createPartitionsAhead(nowMs: Int64) throws {
        let now = PostgresPartitions.index(of: nowMs)
        try ensurePartitions(Array((now - 1)...(now + Self.partitionsAhead)))
    }

    /// Creates the partitions among `indexes` not known to exist. A partition that cannot be
    /// created (its hour already has rows in the default partition) is logged and left: its
    /// snapshots are stored in the default partition instead.
    func ensurePartitions(_ indexes: [Int64]) throws {
        let missing = knownPartitions.withLock { known in Set(indexes).subtracting(known) }
        guard !missing.isEmpty else { return }
        do {
            try PostgresPartitions.create(Array(missing), connections: connections)
        } catch {
            logger.warning("cannot create raw partitions; their snapshots go to sample_default", metadata: [
                "leak.partitions": "\(missing.sorted().map(PostgresPartitions.name))", "leak.error": "\(error)",
            ])
        }
        knownPartitions.withLock { $0.formUnion(missing) }
    }
}
