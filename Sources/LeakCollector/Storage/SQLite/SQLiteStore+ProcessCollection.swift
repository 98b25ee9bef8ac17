import Foundation
import GRDB

extension SQLiteStore {
    /// Deletes the process instances, then the hosts, that nothing retained belongs to any more,
    /// `chunkSize` per transaction; returns how many of each.
    ///
    /// An instance goes once it was last seen before `lastSeenBeforeMs` and no sample, rollup
    /// bucket or event of it is left; a host once it was last seen before then and has no
    /// instance, verdict or event left. Like stack collection, each chunk runs under the writer's
    /// cache lock, so the deleted ids leave its caches in the same critical section: a process or
    /// host that reports again later gets a new row, never a dangling cached id.
    @discardableResult
    public func collectDepartedProcesses(lastSeenBeforeMs cutoffMs: Int64, chunkSize: Int)
        throws -> (instances: Int, hosts: Int)
    {
        let instances = try deleteInChunks(from: "processInstance", chunkSize: chunkSize, cutoffMs: cutoffMs, select: """
            SELECT id, hostId, instanceKey FROM processInstance
            WHERE lastSeenMs < ?
              AND NOT EXISTS (SELECT 1 FROM sample WHERE instanceId = processInstance.id)
              AND NOT EXISTS (SELECT 1 FROM sampleRollup WHERE instanceId = processInstance.id)
              AND id NOT IN (SELECT instanceId FROM event)
              AND NOT EXISTS (SELECT 1 FROM memoryError WHERE instanceId = processInstance.id)
            LIMIT ?
            """) { row, caches in
            caches.instanceIDs[WriteCaches.InstanceKey(hostID: row["hostId"], instanceKey: row["instanceKey"])] = nil
        }
        let hosts = try deleteInChunks(from: "host", chunkSize: chunkSize, cutoffMs: cutoffMs, select: """
            SELECT id, name FROM host
            WHERE lastSeenMs < ?
              AND NOT EXISTS (SELECT 1 FROM processInstance WHERE hostId = host.id)
              AND NOT EXISTS (SELECT 1 FROM verdict WHERE hostId = host.id)
              AND id NOT IN (SELECT hostId FROM event)
              AND NOT EXISTS (SELECT 1 FROM memoryError WHERE hostId = host.id)
            LIMIT ?
            """) { row, caches in
            caches.hostIDs[row["name"] as String] = nil
        }
        if instances > 0 || hosts > 0 {
            logger.debug("departed processes collected", metadata: ["leak.instancesDeleted": "\(instances)", "leak.hostsDeleted": "\(hosts)"])
        }
        return (instances, hosts)
    }

    /// Deletes from `table` the rows `select` finds (its arguments: the cutoff, then the chunk
    /// size; it returns `id` and whatever `evict` reads), one chunk per write transaction under the
    /// cache lock, evicting each row from the writer's caches, until a chunk comes back short.
    private func deleteInChunks(
        from table: String, chunkSize: Int, cutoffMs: Int64, select: String, evict: (Row, inout WriteCaches) -> Void
    ) throws -> Int {
        var total = 0
        while true {
            let deleted = try writeCaches.withLock { caches in
                try pool.write { db -> Int in
                    let rows = try Row.fetchAll(db, sql: select, arguments: [cutoffMs, chunkSize])
                    let delete = try db.cachedStatement(sql: "DELETE FROM \(table) WHERE id = ?")
                    for row in rows {
                        evict(row, &caches)
                        try delete.execute(arguments: [row["id"] as Int64])
                    }
                    return rows.count
                }
            }
            total += deleted
            if deleted < chunkSize { return total }
        }
    }
}
