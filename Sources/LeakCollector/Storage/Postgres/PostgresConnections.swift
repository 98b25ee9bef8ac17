import Logging
import NIOCore
import PostgresNIO

/// The store's connections to PostgreSQL, used the way the store is: blocking.
///
/// A caller takes an idle connection (or opens one), runs its statements, waiting on each
/// future, and gives it back. The futures complete on the event loops while the caller's thread
/// (the server's thread pool, the batch writer's, maintenance's) waits: never call this from an
/// event loop. A connection that broke is dropped, not given back, and the next caller opens a
/// new one, so a restarted PostgreSQL costs the calls that were under way and nothing more.
final class PostgresConnections: Sendable {
    private struct State: Sendable {
        var idle: [PostgresConnection] = []
        var nextID = 0
        var closed = false
    }

    private let configuration: PostgresConnection.Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = Locked(State())
    /// Idle connections kept; more may be open while busy.
    private let maximumIdle: Int

    init(location: PostgresLocation, group: any EventLoopGroup, logger: Logger, maximumIdle: Int = 8) throws {
        self.configuration = try location.connectionConfiguration()
        self.group = group
        self.logger = logger
        self.maximumIdle = maximumIdle
    }

    /// Runs `body` on a connection of its own.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try take()
        let result: T
        do {
            result = try body(connection)
        } catch {
            giveBack(connection)
            // The store's own errors (an unknown stack) pass as they are; the driver's say what the server said.
            if error is StoreError { throw error }
            throw PostgresStoreError(error)
        }
        giveBack(connection)
        return result
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnection { connection in
            try connection.run("BEGIN")
            let result: T
            do {
                result = try body(connection)
                try connection.run("COMMIT")
            } catch {
                if !connection.isClosed { _ = try? connection.run("ROLLBACK") }
                throw error
            }
            return result
        }
    }

    /// Closes every idle connection; later calls throw `StoreError.closed`.
    func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { try? connection.close().wait() }
    }

    /// A connection outside the pool, for a session the caller keeps (advisory locks); the caller closes it.
    func openDedicated() throws -> PostgresConnection {
        let id = try state.withLock { state -> Int in
            if state.closed { throw StoreError.closed }
            state.nextID += 1
            return state.nextID
        }
        do {
            return try PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger).wait()
        } catch {
            throw PostgresStoreError(error)
        }
    }

    private func take() throws -> PostgresConnection {
        enum Taken: Sendable { case idle(PostgresConnection), open(Int), closed }
        let taken = state.withLock { state -> Taken in
            if state.closed { return .closed }
            while let connection = state.idle.popLast() {
                if !connection.isClosed { return .idle(connection) }
            }
            state.nextID += 1
            return .open(state.nextID)
        }
        switch taken {
        case .idle(let connection): return connection
        case .closed: throw StoreError.closed
        case .open(let id):
            do {
                return try PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger).wait()
            } catch {
                throw PostgresStoreError(error)
            }
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        guard !connection.isClosed else { return }
        let keep = state.withLock { state -> Bool in
            guard !state.closed, state.idle.count < maximumIdle else { return false }
            state.idle.append(connection)
            return true
        }
        if !keep { connection.close().whenComplete { _ in } }
    }
}

extension PostgresConnection {
    /// Runs one statement and waits for all of its rows.
    @discardableResult
    func run(_ query: PostgresQuery, logger: Logger = PostgresConnection.quietLogger) throws -> PostgresQueryResult {
        try self.query(query, logger: logger).wait()
    }

    /// Rows the statement changed (INSERT, UPDATE, DELETE).
    func changes(_ query: PostgresQuery) throws -> Int {
        try run(query).metadata.rows ?? 0
    }

    /// The first column of the first row, nil when there is no row (or it is NULL).
    func scalar<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> T? where T._DecodableType == T {
        guard let row = try run(query).first else { return nil }
        var columns = PostgresColumns(row)
        return try columns.next(T?.self)
    }

    static let quietLogger = Logger(label: "leakwatch.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// Reads a row's columns in order.
struct PostgresColumns {
    private var iterator: PostgresRow.Iterator

    init(_ row: PostgresRow) { iterator = row.makeIterator() }

    mutating func next<T: PostgresDecodable>(_: T.Type = T.self) throws -> T {
        guard let cell = iterator.next() else { throw PostgresStoreError(message: "a row has fewer columns than the store reads") }
        return try cell.decode(T.self)
    }
}

/// PostgreSQL failed a store operation: what the server said (its SQLSTATE and message), which
/// PostgresNIO's own description withholds.
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The server's SQLSTATE, e.g. "40P01" for a deadlock; nil when the server said nothing.
    public var sqlState: String?

    init(message: String, sqlState: String? = nil) {
        self.description = message
        self.sqlState = sqlState
    }

    init(_ error: any Error) {
        if let error = error as? PostgresStoreError {
            self = error
        } else if let error = error as? StoreError {
            self.init(message: error.description)
        } else if let error = error as? PSQLError {
            let server = error.serverInfo
            if let message = server?[.message] {
                self.init(message: "PostgreSQL: \(message) (SQLSTATE \(server?[.sqlState] ?? "?"))", sqlState: server?[.sqlState])
            } else {
                self.init(message: "PostgreSQL: \(String(reflecting: error))")
            }
        } else {
            self.init(message: "PostgreSQL: \(error)")
        }
    }
}
