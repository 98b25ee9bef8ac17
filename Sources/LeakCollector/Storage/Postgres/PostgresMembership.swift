import Logging
import PostgresNIO

/// Which collectors share the database now, and which hosts are this one's to judge.
///
/// Each collector holds a session advisory lock (`classKey`, its member id) on a connection of
/// its own for as long as it runs. The lock is its membership: PostgreSQL releases it the moment
/// that session ends, and a collector killed by SIGKILL ends it with its sockets, so the next
/// verdict pass of the others (they read `pg_locks`) no longer counts it and takes its hosts. No
/// heartbeat to tune, no other coordination service.
///
/// Hosts are split by rendezvous hashing (each host goes to the live member with the highest
/// hash of host and member): when a member joins or leaves, only its own share moves.
final class PostgresMembership: Sendable {
    /// The advisory locks' first key: "LW".
    static let classKey: Int32 = 0x4C57

    private struct State: Sendable {
        var connection: PostgresConnection?
        var memberID: Int32
    }

    private let state: Locked<State>
    private let logger: Logger

    init(logger: Logger) {
        self.state = Locked(State(connection: nil, memberID: Int32.random(in: 1...Int32.max)))
        self.logger = logger
    }

    /// The live members' ids, sorted, and this collector's; joins first (again, when its session
    /// broke, under a new id if its old one was taken meanwhile).
    func members(_ connections: PostgresConnections) throws -> (mine: Int32, live: [Int32]) {
        let connection = try join(connections)
        let mine = state.withLock { $0.memberID }
        let live = try connection.run("""
            SELECT objid::bigint FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND classid = \(Int64(Self.classKey)) AND objsubid = 2
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """).map { row -> Int32 in
            var columns = PostgresColumns(row)
            return Int32(truncatingIfNeeded: try columns.next(Int64.self))
        }
        return (mine, live.sorted())
    }

    /// The hosts among `hosts` that this collector judges in this pass.
    func share(of hosts: [HostRecord], connections: PostgresConnections) throws -> [HostRecord] {
        let (mine, live) = try members(connections)
        guard live.count > 1 else { return hosts }
        return hosts.filter { host in Self.owner(of: host.name, among: live) == mine }
    }

    /// The member with the highest weight for `hostName`.
    static func owner(of hostName: String, among members: [Int32]) -> Int32? {
        members.max { weight(hostName, $0) < weight(hostName, $1) }
    }

    /// FNV-1a over the host name and the member id: the same in every collector and every run
    /// (Swift's `Hasher` is seeded per process, so it cannot be used here).
    static func weight(_ hostName: String, _ member: Int32) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in hostName.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var id = UInt32(bitPattern: member)
        for _ in 0..<4 {
            hash = (hash ^ UInt64(id & 0xff)) &* 0x0000_0100_0000_01b3
            id >>= 8
        }
        // FNV's low bits mix poorly for short inputs: finish with a multiply-xorshift.
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        return hash ^ (hash >> 33)
    }

    /// This collector's membership session, opened and locked when it has none.
    private func join(_ connections: PostgresConnections) throws -> PostgresConnection {
        if let connection = state.withLock({ $0.connection }), !connection.isClosed { return connection }
        let connection = try connections.openDedicated()
        do {
            while true {
                let id = state.withLock { $0.memberID }
                let locked = try connection.scalar(
                    "SELECT pg_try_advisory_lock(\(Self.classKey), \(id))", as: Bool.self) ?? false
                if locked { break }
                state.withLock { $0.memberID = Int32.random(in: 1...Int32.max) }
            }
        } catch {
            connection.close().whenComplete { _ in }
            throw PostgresStoreError(error)
        }
        let id = state.withLock { state in
            state.connection = connection
            return state.memberID
        }
        logger.info("joined the collectors sharing the store", metadata: ["leak.member": "\(id)"])
        return connection
    }

    /// Leaves: the session's end releases the lock.
    func leave() {
        let connection = state.withLock { state in
            defer { state.connection = nil }
            return state.connection
        }
        try? connection?.close().wait()
    }
}
