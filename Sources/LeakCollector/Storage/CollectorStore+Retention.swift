import Foundation
import GRDB

/// What one retention pass did.
public struct RetentionReport: Sendable, Equatable {
    public var rawSamplesRolledUp = 0
    public var minuteBucketsRolledUp = 0
    public var hourBucketsDeleted = 0
    public var eventsDeleted = 0
    public var memoryErrorsDeleted = 0
    public var verdictsDeleted = 0
    public var stacksDeleted = 0
    public var instancesDeleted = 0
    public var hostsDeleted = 0

    public init() {}
}

extension CollectorStore {
    static let minuteSeconds: Int64 = 60
    static let hourSeconds: Int64 = 3600
    /// Stacks deleted per transaction: about 18 ms of the writer's time (100,000 stacks of 12
    /// frames took 3.6 s in chunks of 2,000, debug build), which ingest waits at most.
    public static let stackChunkSize = 500

    /// Downsamples and expires data, judged by snapshot timestamps against `nowMs`:
    /// raw snapshots older than the raw retention fold into 1-minute buckets, minute buckets
    /// older than their retention fold into 1-hour buckets, and hour buckets, events and
    /// verdicts older than the hour retention are deleted; then the stacks nothing retained
    /// refers to any more (see `collectStacks`), and the process instances and hosts whose data
    /// has all expired (see `collectDepartedProcesses`). Works in short transactions so ingest
    /// is never blocked for long.
    @discardableResult
    public func applyRetention(nowMs: Int64, chunkSize: Int = 2000) throws -> RetentionReport {
        var report = RetentionReport()
        let rawCutoffMs = nowMs - configuration.rawRetentionSeconds * 1000
        while true {
            let count = try pool.write { db in try rollUpRawChunk(olderThanMs: rawCutoffMs, limit: chunkSize, db: db) }
            report.rawSamplesRolledUp += count
            if count < chunkSize { break }
        }
        let minuteCutoffMs = nowMs - configuration.minuteRetentionSeconds * 1000
        while true {
            let count = try pool.write { db in try rollUpMinuteChunk(olderThanMs: minuteCutoffMs, limit: chunkSize, db: db) }
            report.minuteBucketsRolledUp += count
            if count < chunkSize { break }
        }
        let hourCutoffMs = nowMs - configuration.hourRetentionSeconds * 1000
        try pool.write { db in
            try db.execute(
                sql: "DELETE FROM sampleRollup WHERE resolutionSeconds = ? AND bucketStartMs + ? <= ?",
                arguments: [Self.hourSeconds, Self.hourSeconds * 1000, hourCutoffMs])
            report.hourBucketsDeleted = db.changesCount
            try db.execute(sql: "DELETE FROM event WHERE timestampMs < ?", arguments: [hourCutoffMs])
            report.eventsDeleted = db.changesCount
            // As long as the hour buckets, the longest-kept leak data: a rare bug's only trace.
            try db.execute(sql: "DELETE FROM memoryError WHERE timestampMs < ?", arguments: [hourCutoffMs])
            report.memoryErrorsDeleted = db.changesCount
            try db.execute(sql: "DELETE FROM verdict WHERE evaluatedAtMs < ?", arguments: [hourCutoffMs])
            report.verdictsDeleted = db.changesCount
        }
        report.stacksDeleted = try collectStacks(notReferencedSinceMs: hourCutoffMs, chunkSize: min(chunkSize, Self.stackChunkSize))
        // An hour bucket outlives its last point by up to an hour: wait that long after the last sighting.
        let departed = try collectDepartedProcesses(
            lastSeenBeforeMs: hourCutoffMs - Self.hourSeconds * 1000, chunkSize: min(chunkSize, Self.stackChunkSize))
        report.instancesDeleted = departed.instances
        report.hostsDeleted = departed.hosts
        if report != RetentionReport() {
            logger.debug("retention pass", metadata: [
                "leak.rawRolledUp": "\(report.rawSamplesRolledUp)",
                "leak.minuteRolledUp": "\(report.minuteBucketsRolledUp)",
                "leak.hourDeleted": "\(report.hourBucketsDeleted)",
                "leak.stacksDeleted": "\(report.stacksDeleted)",
                "leak.instancesDeleted": "\(report.instancesDeleted)",
                "leak.hostsDeleted": "\(report.hostsDeleted)",
            ])
        }
        return report
    }

    /// One rollup per (instance, bucket): points that fall in the same bucket are merged.
    private static func mergedByBucket(_ points: [SampleRollupRecord]) -> [SampleRollupRecord] {
        var buckets: [BucketKey: SampleRollupRecord] = [:]
        for point in points {
            let key = BucketKey(instanceId: point.instanceId, bucketStartMs: point.bucketStartMs)
            if var existing = buckets[key] {
                existing.merge(point)
                buckets[key] = existing
            } else {
                buckets[key] = point
            }
        }
        return Array(buckets.values)
    }

    private func rollUpRawChunk(olderThanMs cutoffMs: Int64, limit: Int, db: Database) throws -> Int {
        let samples = try SampleRecord.fetchAll(
            db, sql: "SELECT * FROM sample WHERE timestampMs < ? ORDER BY timestampMs LIMIT ?", arguments: [cutoffMs, limit])
        guard !samples.isEmpty else { return 0 }
        try upsert(Self.mergedByBucket(samples.map { SampleRollupRecord(sample: $0, resolutionSeconds: Self.minuteSeconds) }),
                   db: db)
        let delete = try db.cachedStatement(sql: "DELETE FROM sample WHERE id = ?")
        for sample in samples { try delete.execute(arguments: [sample.id]) }
        return samples.count
    }

    private func rollUpMinuteChunk(olderThanMs cutoffMs: Int64, limit: Int, db: Database) throws -> Int {
        let minutes = try SampleRollupRecord.fetchAll(
            db,
            sql: "SELECT * FROM sampleRollup WHERE resolutionSeconds = ? AND bucketStartMs + ? <= ? ORDER BY bucketStartMs LIMIT ?",
            arguments: [Self.minuteSeconds, Self.minuteSeconds * 1000, cutoffMs, limit])
        guard !minutes.isEmpty else { return 0 }
        let hours = minutes.map { minute in
            var point = minute
            point.resolutionSeconds = Self.hourSeconds
            point.bucketStartMs = Self.bucketStart(minute.bucketStartMs, resolutionSeconds: Self.hourSeconds)
            return point
        }
        try upsert(Self.mergedByBucket(hours), db: db)
        let delete = try db.cachedStatement(
            sql: "DELETE FROM sampleRollup WHERE instanceId = ? AND resolutionSeconds = ? AND bucketStartMs = ?")
        for minute in minutes {
            try delete.execute(arguments: [minute.instanceId, Self.minuteSeconds, minute.bucketStartMs])
        }
        return minutes.count
    }

    /// Inserts buckets, merging into any bucket already stored (late data, chunk boundaries).
    func upsert(_ buckets: [SampleRollupRecord], db: Database) throws {
        for var bucket in buckets {
            if let existing = try SampleRollupRecord.fetchOne(
                db,
                sql: "SELECT * FROM sampleRollup WHERE instanceId = ? AND resolutionSeconds = ? AND bucketStartMs = ?",
                arguments: [bucket.instanceId, bucket.resolutionSeconds, bucket.bucketStartMs])
            {
                var merged = existing
                merged.merge(bucket)
                bucket = merged
            }
            try bucket.save(db)
        }
    }

    static func bucketStart(_ timestampMs: Int64, resolutionSeconds: Int64) -> Int64 {
        let width = resolutionSeconds * 1000
        return timestampMs - ((timestampMs % width) + width) % width
    }

    private struct BucketKey: Hashable {
        var instanceId: Int64
        var bucketStartMs: Int64
    }
}

extension SampleRollupRecord {
    /// A bucket holding one raw snapshot.
    init(sample: SampleRecord, resolutionSeconds: Int64) {
        var sites = PackedRows(arity: SiteRollupColumns.arity)
        if let raw = PackedRows(decoding: sample.sites), raw.arity == SiteColumns.arity {
            sites.values.reserveCapacity(raw.rowCount * SiteRollupColumns.arity)
            for index in 0..<raw.rowCount {
                let row = raw.row(index)
                let base = row.startIndex
                let live = row[base + SiteColumns.liveBytes]
                sites.append(row[base + SiteColumns.stackID], live, live, live, row[base + SiteColumns.liveObjects], row[base + SiteColumns.allocatedBytes])
            }
        }
        self.init(
            instanceId: sample.instanceId, resolutionSeconds: resolutionSeconds,
            bucketStartMs: CollectorStore.bucketStart(sample.timestampMs, resolutionSeconds: resolutionSeconds),
            hostId: sample.hostId, pointCount: 1, lastTimestampMs: sample.timestampMs,
            bytesInUseMin: sample.bytesInUse, bytesInUseMax: sample.bytesInUse, bytesInUseLast: sample.bytesInUse,
            residentBytesMin: sample.residentBytes, residentBytesMax: sample.residentBytes,
            peakBytesInUseMax: sample.peakBytesInUse, bytesAllocatedTotalLast: sample.bytesAllocatedTotal,
            allocationCountLast: sample.allocationCount, freeCountLast: sample.freeCount,
            blocksOutstandingLast: sample.blocksOutstanding, uptimeSecondsLast: sample.uptimeSeconds,
            sites: sites.encoded())
    }

    /// Folds another bucket of the same instance and bucket into this one.
    mutating func merge(_ other: SampleRollupRecord) {
        let otherIsLater = other.lastTimestampMs >= lastTimestampMs
        pointCount += other.pointCount
        bytesInUseMin = min(bytesInUseMin, other.bytesInUseMin)
        bytesInUseMax = max(bytesInUseMax, other.bytesInUseMax)
        residentBytesMin = min(residentBytesMin, other.residentBytesMin)
        residentBytesMax = max(residentBytesMax, other.residentBytesMax)
        peakBytesInUseMax = max(peakBytesInUseMax, other.peakBytesInUseMax)
        if otherIsLater {
            lastTimestampMs = other.lastTimestampMs
            bytesInUseLast = other.bytesInUseLast
            bytesAllocatedTotalLast = other.bytesAllocatedTotalLast
            allocationCountLast = other.allocationCountLast
            freeCountLast = other.freeCountLast
            blocksOutstandingLast = other.blocksOutstandingLast
            uptimeSecondsLast = other.uptimeSecondsLast
        }
        sites = Self.mergeSites(sites, other.sites, otherIsLater: otherIsLater)
    }

    private static func mergeSites(_ left: Data, _ right: Data, otherIsLater: Bool) -> Data {
        guard let leftRows = PackedRows(decoding: left), let rightRows = PackedRows(decoding: right) else {
            return otherIsLater ? right : left
        }
        typealias C = SiteRollupColumns
        var byStack: [Int64: [Int64]] = [:]
        var order: [Int64] = []
        for (rows, isLater) in [(leftRows, !otherIsLater), (rightRows, otherIsLater)] {
            for index in 0..<rows.rowCount {
                let row = Array(rows.row(index))
                let stack = row[C.stackID]
                if var existing = byStack[stack] {
                    existing[C.liveBytesMin] = min(existing[C.liveBytesMin], row[C.liveBytesMin])
                    existing[C.liveBytesMax] = max(existing[C.liveBytesMax], row[C.liveBytesMax])
                    if isLater {
                        existing[C.liveBytesLast] = row[C.liveBytesLast]
                        existing[C.liveObjectsLast] = row[C.liveObjectsLast]
                        existing[C.allocatedBytesLast] = row[C.allocatedBytesLast]
                    }
                    byStack[stack] = existing
                } else {
                    byStack[stack] = row
                    order.append(stack)
                }
            }
        }
        var merged = PackedRows(arity: C.arity)
        for stack in order { merged.values.append(contentsOf: byStack[stack]!) }
        return merged.encoded()
    }
}
