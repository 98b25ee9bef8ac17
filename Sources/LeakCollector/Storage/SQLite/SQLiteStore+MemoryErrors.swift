import Foundation
import GRDB

extension SQLiteStore {
    /// A host's memory errors at or after `fromMs`, newest first.
    public func memoryErrors(hostId: Int64, fromMs: Int64, limit: Int) throws -> [MemoryErrorRecord] {
        try pool.read { db in
            try MemoryErrorRecord.filter(MemoryErrorRecord.Columns.hostId == hostId && MemoryErrorRecord.Columns.timestampMs >= fromMs)
                .order(MemoryErrorRecord.Columns.timestampMs.desc).limit(limit).fetchAll(db)
        }
    }

    /// The fleet's memory errors at or after `fromMs` (of hosts of `serviceName`, every host when
    /// empty), one summary per kind and allocation stack: most hosts first, then most
    /// occurrences, then the newest.
    public func memoryErrorSites(serviceName: String, fromMs: Int64, limit: Int) throws -> [MemoryErrorSiteSummary] {
        try pool.read { db in
            let scope = "m.timestampMs >= ? AND (? = '' OR h.serviceName = ?)"
            let groups = try Row.fetchAll(db, sql: """
                SELECT m.kind, m.allocationStackId, count(DISTINCT m.hostId) AS hostCount, count(*) AS occurrences,
                       min(m.timestampMs) AS firstSeenMs, max(m.timestampMs) AS lastSeenMs
                FROM memoryError m JOIN host h ON h.id = m.hostId
                WHERE \(scope)
                GROUP BY m.kind, m.allocationStackId
                ORDER BY hostCount DESC, occurrences DESC, lastSeenMs DESC, m.kind
                LIMIT ?
                """, arguments: [fromMs, serviceName, serviceName, limit])
            return try groups.map { group in
                let kind: String = group["kind"]
                let stackId: Int64? = group["allocationStackId"]
                let arguments: StatementArguments = [kind, stackId, fromMs, serviceName, serviceName]
                let newest = try MemoryErrorRecord.fetchOne(db, sql: """
                    SELECT m.* FROM memoryError m JOIN host h ON h.id = m.hostId
                    WHERE m.kind = ? AND m.allocationStackId IS ? AND \(scope)
                    ORDER BY m.timestampMs DESC LIMIT 1
                    """, arguments: arguments)!
                let hostNames = try String.fetchAll(db, sql: """
                    SELECT h.name FROM memoryError m JOIN host h ON h.id = m.hostId
                    WHERE m.kind = ? AND m.allocationStackId IS ? AND \(scope)
                    GROUP BY h.id ORDER BY max(m.timestampMs) DESC, h.name LIMIT 10
                    """, arguments: arguments)
                return MemoryErrorSiteSummary(
                    kind: kind, allocationStackId: stackId, hostCount: group["hostCount"], occurrences: group["occurrences"],
                    firstSeenMs: group["firstSeenMs"], lastSeenMs: group["lastSeenMs"], hostNames: hostNames, newest: newest)
            }
        }
    }
}
