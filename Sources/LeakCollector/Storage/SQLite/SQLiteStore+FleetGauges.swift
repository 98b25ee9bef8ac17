import GRDB

extension SQLiteStore {
    /// Every host the store holds, by name, read in one transaction (a consistent scrape). A host
    /// retention deleted is simply not here.
    public func hostGaugeRows() throws -> [HostGaugeRow] {
        try pool.read { db in
            // Correlated look-ups ride the (hostId, evaluatedAtMs) and (hostId, timestampMs) indexes:
            // one seek per host, not a scan of the verdict or sample tables.
            try Row.fetchAll(db, sql: """
                SELECT h.name, h.serviceName, h.lastSeenMs,
                       v.status, v.rateBytesPerHour,
                       (SELECT s.bytesInUse FROM sample s WHERE s.hostId = h.id ORDER BY s.timestampMs DESC LIMIT 1) AS heapBytes
                FROM host h
                LEFT JOIN verdict v ON v.id = (
                    SELECT id FROM verdict WHERE hostId = h.id ORDER BY evaluatedAtMs DESC, id DESC LIMIT 1)
                ORDER BY h.name
                """).map { row in
                HostGaugeRow(
                    name: row["name"], serviceName: row["serviceName"], lastSeenMs: row["lastSeenMs"],
                    status: row["status"], rateBytesPerHour: row["rateBytesPerHour"], heapBytes: row["heapBytes"])
            }
        }
    }
}
