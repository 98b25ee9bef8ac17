import Foundation
import GRDB

extension SQLiteStore {
    static let minuteSeconds = Rollup.minuteSeconds
    static let hourSeconds = Rollup.hourSeconds

    /// Downsamples and expires data, judged by snapshot timestamps against `nowMs`:
    /// raw snapshots older than the raw retention fold into 1-minute buckets, minute buckets
    /// older than their retention fold into 1-hour buckets, and hour buckets, events and
    /// verdicts older than the hour retention are deleted; then the stacks nothing retained
    /// refers to any more (see `collectStacks`), and the process instances and hosts whose data
    /// has all expired (see `collectDepartedProcesses`). Works in short transactions so ingest
    /// is never blocked for long.
    @discardableResult
    public func applyRetention(nowMs: Int64, chunkSize: Int) throws -> RetentionReport {
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

    private func rollUpRawChunk(olderThanMs cutoffMs: Int64, limit: Int, db: Database) throws -> Int {
        let samples = try SampleRecord.fetchAll(
            db, sql: "SELECT * FROM sample WHERE timestampMs < ? ORDER BY timestampMs LIMIT ?", arguments: [cutoffMs, limit])
        guard !samples.isEmpty else { return 0 }
        try upsert(Rollup.mergedByBucket(samples.map { SampleRollupRecord(sample: $0, resolutionSeconds: Self.minuteSeconds) }),
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
            point.bucketStartMs = Rollup.bucketStart(minute.bucketStartMs, resolutionSeconds: Self.hourSeconds)
            return point
        }
        try upsert(Rollup.mergedByBucket(hours), db: db)
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
}

