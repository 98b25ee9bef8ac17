import Foundation
import GRDB

/// Every site's live bytes and objects in one stored point of a host: a raw snapshot, or a
/// rollup bucket (then a site's live bytes are the bucket's floor, as in `window`).
public struct SiteSnapshot: Sendable, Equatable {
    public var timestampMs: Int64
    /// Per stack id.
    public var sites: [Int64: SiteSeriesPoint]
}

extension CollectorStore {
    /// A host's sites as they stood at `atMs`: the newest stored point at or before it, else the
    /// oldest after it (a base older than the host's first snapshot compares against that one);
    /// nil when the host has no point stored.
    public func siteSnapshot(hostId: Int64, atMs: Int64) throws -> SiteSnapshot? {
        try pool.read { db in
            guard let point = try Self.storedPoint(db, hostId: hostId, atOrBeforeMs: atMs)
                ?? Self.storedPoint(db, hostId: hostId, afterMs: atMs)
            else { return nil }
            var snapshot = SiteSnapshot(timestampMs: point.timestampMs, sites: [:])
            for site in Self.sitePoints(blob: point.sites, isRaw: point.isRaw, timestampMs: point.timestampMs,
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

    /// The per-site rows of a raw snapshot's or a rollup bucket's `sites` blob.
    static func sitePoints(blob: Data, isRaw: Bool, timestampMs: Int64, instanceId: Int64)
        -> [(stackId: Int64, point: SiteSeriesPoint)] {
        guard let rows = PackedRows(decoding: blob) else { return [] }
        let values = rows.values
        var points: [(stackId: Int64, point: SiteSeriesPoint)] = []
        var base = 0
        if isRaw, rows.arity == SiteColumns.arity {
            while base < values.count {
                points.append((values[base + SiteColumns.stackID], SiteSeriesPoint(
                    timestampMs: timestampMs, instanceId: instanceId,
                    liveBytes: values[base + SiteColumns.liveBytes],
                    liveObjects: values[base + SiteColumns.liveObjects],
                    allocatedBytes: values[base + SiteColumns.allocatedBytes])))
                base += SiteColumns.arity
            }
        } else if !isRaw, rows.arity == SiteRollupColumns.arity {
            while base < values.count {
                points.append((values[base + SiteRollupColumns.stackID], SiteSeriesPoint(
                    timestampMs: timestampMs, instanceId: instanceId,
                    liveBytes: values[base + SiteRollupColumns.liveBytesMin],
                    liveObjects: values[base + SiteRollupColumns.liveObjectsLast],
                    allocatedBytes: values[base + SiteRollupColumns.allocatedBytesLast])))
                base += SiteRollupColumns.arity
            }
        }
        return points
    }
}
