import Foundation
import PostgresNIO

extension PostgresStore {
    /// As `SQLiteStore.collectStacks`, with this collector's pins. With several collectors, a
    /// stack another collector's connection has pinned may be deleted here; that agent's next
    /// snapshot naming it by id alone is then refused as an unknown stack and the agent
    /// reconnects, sending the frames again. The retention lock keeps two passes from racing.
    @discardableResult
    public func collectStacks(notReferencedSinceMs capMs: Int64, chunkSize: Int) throws -> Int {
        var deleted = 0
        var after: (lastSeenMs: Int64, id: Int64) = (.min, .min)
        while true {
            let (examined, removed, last) = try writeCaches.withLock { caches in
                try connections.transaction { connection -> (Int, Int, (Int64, Int64)?) in
                    let cutoffMs = min(try Self.oldestReferenceMs(connection) ?? capMs, capMs)
                    let rows = try connection.run("""
                        SELECT id, digest, lastSeenMs FROM stack
                        WHERE lastSeenMs < \(cutoffMs) AND (lastSeenMs, id) > (\(after.lastSeenMs), \(after.id))
                        ORDER BY lastSeenMs, id LIMIT \(Int64(chunkSize))
                        """).map { row -> (id: Int64, digest: StackDigest?, lastSeenMs: Int64) in
                        var c = PostgresColumns(row)
                        let id: Int64 = try c.next()
                        let digest: Data = try c.next()
                        return (id, StackDigest(bytes: digest), try c.next())
                    }
                    guard let lastRow = rows.last else { return (0, 0, nil) }
                    let pinned = stackPins.pinned(among: rows.compactMap(\.digest))
                    var doomed: [Int64] = []
                    for candidate in rows {
                        if let digest = candidate.digest {
                            if pinned.contains(digest) { continue }
                            caches.stackIDs[digest] = nil
                        }
                        doomed.append(candidate.id)
                    }
                    if !doomed.isEmpty { try connection.run("DELETE FROM stack WHERE id = ANY(\(doomed))") }
                    return (rows.count, doomed.count, (lastRow.lastSeenMs, lastRow.id))
                }
            }
            deleted += removed
            guard let last, examined == chunkSize else { break }
            after = last
        }
        if deleted > 0 { logger.debug("stacks collected", metadata: ["leak.stacksDeleted": "\(deleted)"]) }
        return deleted
    }

    /// Time of the oldest retained sample, rollup bucket, verdict or memory error; nil when none.
    private static func oldestReferenceMs(_ connection: PostgresConnection) throws -> Int64? {
        let minute = Rollup.minuteSeconds, hour = Rollup.hourSeconds
        return try connection.scalar("""
            SELECT least(
                (SELECT min(timestampMs) FROM sample),
                (SELECT min(bucketStartMs) FROM sampleRollup WHERE resolutionSeconds = \(minute)),
                (SELECT min(bucketStartMs) FROM sampleRollup WHERE resolutionSeconds = \(hour)),
                (SELECT min(evaluatedAtMs) FROM verdict),
                (SELECT min(timestampMs) FROM memoryError))
            """, as: Int64.self)
    }

    /// As `SQLiteStore.collectDepartedProcesses`.
    @discardableResult
    public func collectDepartedProcesses(lastSeenBeforeMs cutoffMs: Int64, chunkSize: Int) throws -> (instances: Int, hosts: Int) {
        let instances = try deleteInChunks(chunkSize: chunkSize) { connection, caches in
            let rows = try connection.run("""
                SELECT id, hostId, instanceKey FROM processInstance p
                WHERE lastSeenMs < \(cutoffMs)
                  AND NOT EXISTS (SELECT 1 FROM sample WHERE instanceId = p.id)
                  AND NOT EXISTS (SELECT 1 FROM sampleRollup WHERE instanceId = p.id)
                  AND NOT EXISTS (SELECT 1 FROM event WHERE instanceId = p.id)
                  AND NOT EXISTS (SELECT 1 FROM memoryError WHERE instanceId = p.id)
                LIMIT \(Int64(chunkSize))
                """)
            var ids: [Int64] = []
            for row in rows {
                var c = PostgresColumns(row)
                let id: Int64 = try c.next()
                caches.instanceIDs[WriteCaches.InstanceKey(hostID: try c.next(), instanceKey: try c.next())] = nil
                ids.append(id)
            }
            if !ids.isEmpty { try connection.run("DELETE FROM processInstance WHERE id = ANY(\(ids))") }
            return ids.count
        }
        let hosts = try deleteInChunks(chunkSize: chunkSize) { connection, caches in
            let rows = try connection.run("""
                SELECT id, name FROM host h
                WHERE lastSeenMs < \(cutoffMs)
                  AND NOT EXISTS (SELECT 1 FROM processInstance WHERE hostId = h.id)
                  AND NOT EXISTS (SELECT 1 FROM verdict WHERE hostId = h.id)
                  AND NOT EXISTS (SELECT 1 FROM event WHERE hostId = h.id)
                  AND NOT EXISTS (SELECT 1 FROM memoryError WHERE hostId = h.id)
                LIMIT \(Int64(chunkSize))
                """)
            var ids: [Int64] = []
            for row in rows {
                var c = PostgresColumns(row)
                ids.append(try c.next())
                caches.hostIDs[try c.next(String.self)] = nil
            }
            if !ids.isEmpty { try connection.run("DELETE FROM host WHERE id = ANY(\(ids))") }
            return ids.count
        }
        if instances > 0 || hosts > 0 {
            logger.debug("departed processes collected", metadata: ["leak.instancesDeleted": "\(instances)", "leak.hostsDeleted": "\(hosts)"])
        }
        return (instances, hosts)
    }

    /// Runs `chunk` (which deletes up to `chunkSize` rows and returns how many) in write
    /// transactions under the cache lock until it comes back short.
    private func deleteInChunks(chunkSize: Int, _ chunk: (PostgresConnection, inout WriteCaches) throws -> Int) throws -> Int {
        var total = 0
        while true {
            let deleted = try writeCaches.withLock { caches in
                try connections.transaction { connection in try chunk(connection, &caches) }
            }
            total += deleted
            if deleted < chunkSize { return total }
        }
    }
}
