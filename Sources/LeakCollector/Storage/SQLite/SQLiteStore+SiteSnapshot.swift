import Foundation
import GRDB

extension SQLiteStore {
    /// A host's sites as they stood at `atMs`: the newest stored point at or before it, else the
    /// oldest after it (a base older than the host's first snapshot compares against that one);
    /// nil when the host has no point stored.
    public func siteSnapshot(hostId: Int64, atMs: Int64) throws -> SiteSnapshot? {
        try pool.read { db in
            guard let point = try Self.storedPoint(db, hostId: hostId, atOrBeforeMs: atMs)
                ?? Self.storedPoint(db, hostId: hostId, afterMs: atMs)
            else { return nil }
            var snapshot = SiteSnapshot(timestampMs: point.timestampMs, sites: [:])
            for site in SiteSnapshot.sitePoints(blob: point.sites, isRaw: point.isRaw, timestampMs: point.timestampMs,
                                        instanceId: point.instanceId) {
                snapshot.sites[site.stackId] = site.point
            }
            return snapshot
        }
    }

    private typealias StoredPoint = (timestampMs: Int64, instanceId: Int64, sites: Data, isRaw: Bool)

    /// The newest raw snapshot or rollup bucket at or before `atOrBeforeMs`, each tier by its own index.
    private static func storedPoint(_ db: Database, hostId: Int64, atOrBeforeMs: Int64) throws -> StoredPoint? {
        try [
            point(db, sql: "SELECT timestampMs, instanceId, sites, 1 FROM sample WHERE hostId = ? AND timestampMs <= ? "
                + "ORDER BY timestampMs DESC LIMIT 1", hostId, atOrBeforeMs),
            point(db, sql: "SELECT bucketStartMs, instanceId, sites, 0 FROM sampleRollup WHERE hostId = ? AND bucketStartMs <= ? "
                + "ORDER BY bucketStartMs DESC LIMIT 1", hostId, atOrBeforeMs),
        ].compactMap { $0 }.max { $0.timestampMs < $1.timestampMs }
    }

    /// The oldest raw snapshot or rollup bucket after `afterMs`.
    private static func storedPoint(_ db: Database, hostId: Int64, afterMs: Int64) throws -> StoredPoint? {
        try [
            point(db, sql: "SELECT timestampMs, instanceId, sites, 1 FROM sample WHERE hostId = ? AND timestampMs > ? "
                + "ORDER BY timestampMs LIMIT 1", hostId, afterMs),
            point(db, sql: "SELECT bucketStartMs, instanceId, sites, 0 FROM sampleRollup WHERE hostId = ? AND bucketStartMs > ? "
                + "ORDER BY bucketStartMs LIMIT 1", hostId, afterMs),
        ].compactMap { $0 }.min { $0.timestampMs < $1.timestampMs }
    }

    private static func point(_ db: Database, sql: String, _ hostId: Int64, _ timeMs: Int64) throws -> StoredPoint? {
        try Row.fetchOne(db, sql: sql, arguments: [hostId, timeMs]).map { row in
            (timestampMs: row[0], instanceId: row[1], sites: row[2], isRaw: row[3])
        }
    }
}
