import Foundation
import GRDB

extension CollectorStore {
    /// Deletes the process instances, then the hosts, that nothing retained belongs to any more,
    /// `chunkSize` per transaction; returns how many of each.
    ///
    /// An instance goes once it was last seen before `lastSeenBeforeMs` and no sample, rollup
    /// bucket or event of it is left; a host once it was last seen before then and has no
    /// instance, verdict or event left. Like stack collection, each chunk runs under the writer's
    /// cache lock, so the deleted ids leave its caches in the same critical section: a process or
    /// host that reports again later gets a new row, never a dangling cached id.
    @discardableResult
    public func collectDepartedProcesses(lastSeenBeforeMs cutoffMs: Int64, chunkSize: Int = 500)
        throws -> (instances: Int, hosts: Int)
    {
        let instances = try collectInChunks(chunkSize: chunkSize) { db, caches, limit in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, hostId, instanceKey FROM processInstance
                WHERE lastSeenMs < ?
                  AND NOT EXISTS (SELECT 1 FROM sample WHERE instanceId = processInstance.id)
                  AND NOT EXISTS (SELECT 1 FROM sampleRollup WHERE instanceId = processInstance.id)
                  AND id NOT IN (SELECT instanceId FROM event)
                LIMIT ?
                """, arguments: [cutoffMs, limit])
            let delete = try db.cachedStatement(sql: "DELETE FROM processInstance WHERE id = ?")
            for row in rows {
                caches.instanceIDs[WriteCaches.InstanceKey(hostID: row["hostId"], instanceKey: row["instanceKey"])] = nil
                try delete.execute(arguments: [row["id"] as Int64])
            }
            return rows.count
        }
        let hosts = try collectInChunks(chunkSize: chunkSize) { db, caches, limit in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, name FROM host
                WHERE lastSeenMs < ?
                  AND NOT EXISTS (SELECT 1 FROM processInstance WHERE hostId = host.id)
                  AND NOT EXISTS (SELECT 1 FROM verdict WHERE hostId = host.id)
                  AND id NOT IN (SELECT hostId FROM event)
                LIMIT ?
                """, arguments: [cutoffMs, limit])
            let delete = try db.cachedStatement(sql: "DELETE FROM host WHERE id = ?")
            for row in rows {
                caches.hostIDs[row["name"] as String] = nil
                try delete.execute(arguments: [row["id"] as Int64])
            }
            return rows.count
        }
        if instances > 0 || hosts > 0 {
            logger.debug("departed processes collected", metadata: ["leak.instancesDeleted": "\(instances)", "leak.hostsDeleted": "\(hosts)"])
        }
        return (instances, hosts)
    }

    /// Runs `deleteChunk` (which returns how many rows it deleted, at most its limit) in its own
    /// write transaction under the cache lock until a chunk comes back short.
    private func collectInChunks(
        chunkSize: Int, _ deleteChunk: (Database, inout WriteCaches, Int) throws -> Int
    ) throws -> Int {
        var total = 0
        while true {
            let deleted = try writeCaches.withLock { caches in
                try pool.write { db in try deleteChunk(db, &caches, chunkSize) }
            }
            total += deleted
            if deleted < chunkSize { return total }
        }
    }
}
