import Foundation
import GRDB

extension SQLiteStore {
    /// Deletes the stacks nothing retained refers to, `chunkSize` per transaction; returns how many.
    ///
    /// Sites refer to stacks by row id inside packed blobs (samples, rollups) and verdicts' JSON,
    /// which no index reaches; memory errors by unindexed columns. So the writer keeps a promise instead (`stack.lastSeenMs` is at
    /// least the time of every sample, rollup point, verdict and memory error that refers to the stack), and a
    /// stack whose `lastSeenMs` is older than the oldest retained sample, rollup bucket and
    /// verdict has no referrer left. `notReferencedSinceMs` caps that bound: stacks seen within
    /// the retention are kept even when nothing refers to them.
    ///
    /// Safe against concurrent ingest: each chunk runs under the writer's cache lock and in a
    /// write transaction, so no ingest transaction is in between; the deleted ids leave the
    /// writer's stack cache in the same critical section (no cached id outlives its row); and
    /// stacks that an open connection has defined are pinned (`StackPins`) and kept, since that
    /// agent may refer to them by id alone at any time. A snapshot that defines a stack again
    /// after its deletion interns it afresh.
    @discardableResult
    public func collectStacks(notReferencedSinceMs capMs: Int64, chunkSize: Int) throws -> Int {
        var deleted = 0
        // Keyset pagination over (lastSeenMs, id): pinned stacks are stepped over, not re-read.
        var after: (lastSeenMs: Int64, id: Int64) = (.min, .min)
        while true {
            let (examined, removed, last) = try writeCaches.withLock { caches in
                try pool.write { db -> (Int, Int, (Int64, Int64)?) in
                    // Read in this transaction: a late snapshot committed before it counts.
                    let cutoffMs = min(try Self.oldestReferenceMs(db) ?? capMs, capMs)
                    let rows = try Row.fetchAll(db, sql: """
                        SELECT id, digest, lastSeenMs FROM stack
                        WHERE lastSeenMs < ? AND (lastSeenMs, id) > (?, ?)
                        ORDER BY lastSeenMs, id LIMIT ?
                        """, arguments: [cutoffMs, after.lastSeenMs, after.id, chunkSize])
                    guard let lastRow = rows.last else { return (0, 0, nil) }
                    let candidates: [(id: Int64, digest: StackDigest?)] = rows.map { row in
                        (row["id"], StackDigest(bytes: row["digest"] as Data? ?? Data()))
                    }
                    let pinned = stackPins.pinned(among: candidates.compactMap(\.digest))
                    let delete = try db.cachedStatement(sql: "DELETE FROM stack WHERE id = ?")
                    var removed = 0
                    for candidate in candidates {
                        if let digest = candidate.digest {
                            if pinned.contains(digest) { continue }
                            caches.stackIDs[digest] = nil
                        }
                        try delete.execute(arguments: [candidate.id])
                        removed += 1
                    }
                    return (rows.count, removed, (lastRow["lastSeenMs"], lastRow["id"]))
                }
            }
            deleted += removed
            guard let last, examined == chunkSize else { break }
            after = last
        }
        if deleted > 0 {
            logger.debug("stacks collected", metadata: ["leak.stacksDeleted": "\(deleted)"])
        }
        return deleted
    }

    /// Time of the oldest retained sample, rollup bucket, verdict or memory error (index look-ups only); nil
    /// when there are none.
    private static func oldestReferenceMs(_ db: Database) throws -> Int64? {
        let rollupStart = try db.cachedStatement(sql: "SELECT min(bucketStartMs) FROM sampleRollup WHERE resolutionSeconds = ?")
        return try [
            Int64.fetchOne(db.cachedStatement(sql: "SELECT min(timestampMs) FROM sample")),
            Int64.fetchOne(rollupStart, arguments: [minuteSeconds]),
            Int64.fetchOne(rollupStart, arguments: [hourSeconds]),
            Int64.fetchOne(db.cachedStatement(sql: "SELECT min(evaluatedAtMs) FROM verdict")),
            Int64.fetchOne(db.cachedStatement(sql: "SELECT min(timestampMs) FROM memoryError")),
        ].compactMap { $0 }.min()
    }
}
