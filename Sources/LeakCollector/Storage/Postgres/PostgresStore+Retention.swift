import Foundation
import PostgresNIO

extension PostgresStore {
    /// Key of the session advisory lock a retention pass holds: with several collectors on one
    /// database, one of them runs each pass and the others skip theirs.
    static let retentionLockKey: Int64 = 0x4C65_616B_0003

    /// As `SQLiteStore.applyRetention`, but raw snapshots leave by the hourly partition: one whose
    /// whole hour is older than the raw retention is folded into minute buckets and dropped in one
    /// transaction. So raw data lives up to an hour past its retention. Returns an empty report
    /// when another collector holds the pass.
    @discardableResult
    public func applyRetention(nowMs: Int64, chunkSize: Int) throws -> RetentionReport {
        try connections.withConnection { lockHolder in
            guard try lockHolder.scalar("SELECT pg_try_advisory_lock(\(Self.retentionLockKey))", as: Bool.self) == true else {
                logger.debug("retention pass skipped: another collector runs it")
                return RetentionReport()
            }
            defer { _ = try? lockHolder.run("SELECT pg_advisory_unlock(\(Self.retentionLockKey))") }
            return try applyRetentionHoldingLock(nowMs: nowMs, chunkSize: chunkSize)
        }
    }

    private func applyRetentionHoldingLock(nowMs: Int64, chunkSize: Int) throws -> RetentionReport {
        var report = RetentionReport()
        try createPartitionsAhead(nowMs: nowMs)
        let rawCutoffMs = nowMs - configuration.rawRetentionSeconds * 1000
        report.rawSamplesRolledUp += try dropExpiredPartitions(olderThanMs: rawCutoffMs, chunkSize: chunkSize)
        while true {
            let count = try connections.transaction { connection in
                try rollUpDefaultPartitionChunk(olderThanMs: rawCutoffMs, limit: chunkSize, connection: connection)
            }
            report.rawSamplesRolledUp += count
            if count < chunkSize { break }
        }
        let minuteCutoffMs = nowMs - configuration.minuteRetentionSeconds * 1000
        while true {
            let count = try connections.transaction { connection in
                try rollUpMinuteChunk(olderThanMs: minuteCutoffMs, limit: chunkSize, connection: connection)
            }
            report.minuteBucketsRolledUp += count
            if count < chunkSize { break }
        }
        let hourCutoffMs = nowMs - configuration.hourRetentionSeconds * 1000
        try connections.transaction { connection in
            let hour = Rollup.hourSeconds
            report.hourBucketsDeleted = try connection.changes(
                "DELETE FROM sampleRollup WHERE resolutionSeconds = \(hour) AND bucketStartMs + \(hour * 1000) <= \(hourCutoffMs)")
            report.eventsDeleted = try connection.changes("DELETE FROM event WHERE timestampMs < \(hourCutoffMs)")
            report.memoryErrorsDeleted = try connection.changes("DELETE FROM memoryError WHERE timestampMs < \(hourCutoffMs)")
            report.verdictsDeleted = try connection.changes("DELETE FROM verdict WHERE evaluatedAtMs < \(hourCutoffMs)")
        }
        report.stacksDeleted = try collectStacks(notReferencedSinceMs: hourCutoffMs, chunkSize: min(chunkSize, Self.stackChunkSize))
        let departed = try collectDepartedProcesses(
            lastSeenBeforeMs: hourCutoffMs - Rollup.hourSeconds * 1000, chunkSize: min(chunkSize, Self.stackChunkSize))
        report.instancesDeleted = departed.instances
        report.hostsDeleted = departed.hosts
        if report != RetentionReport() {
            logger.debug("retention pass", metadata: [
                "leak.rawRolledUp": "\(report.rawSamplesRolledUp)", "leak.minuteRolledUp": "\(report.minuteBucketsRolledUp)",
                "leak.hourDeleted": "\(report.hourBucketsDeleted)", "leak.stacksDeleted": "\(report.stacksDeleted)",
                "leak.instancesDeleted": "\(report.instancesDeleted)", "leak.hostsDeleted": "\(report.hostsDeleted)",
            ])
        }
        return report
    }

    /// Folds every partition whose hour ended at or before `cutoffMs` into minute buckets and
    /// drops it, one transaction per partition, reading it `chunkSize` rows at a time. Returns the
    /// snapshots folded.
    private func dropExpiredPartitions(olderThanMs cutoffMs: Int64, chunkSize: Int) throws -> Int {
        let expired = try connections.withConnection { connection in try PostgresPartitions.existing(connection) }
            .filter { index in PostgresPartitions.bounds(index).map { $0.upperMs <= cutoffMs } ?? false }
        var folded = 0
        for index in expired {
            let name = PostgresPartitions.name(index)
            folded += try connections.transaction { connection in
                var count = 0
                var afterID = Int64.min
                while true {
                    let samples = try connection.run(PostgresQuery(unsafeSQL: """
                        SELECT \(SampleRecord.postgresColumns) FROM \(name) WHERE id > $1 ORDER BY id LIMIT $2
                        """, binds: binds(afterID, Int64(chunkSize)))).map(SampleRecord.init(postgres:))
                    guard let last = samples.last else { break }
                    try upsert(Rollup.mergedByBucket(samples.map { SampleRollupRecord(sample: $0, resolutionSeconds: Rollup.minuteSeconds) }),
                               connection: connection)
                    count += samples.count
                    afterID = last.id ?? .max
                    if samples.count < chunkSize { break }
                }
                try connection.run(PostgresQuery(unsafeSQL: "DROP TABLE \(name)"))
                return count
            }
            knownPartitions.withLock { _ = $0.remove(index) }
            logger.debug("raw partition dropped", metadata: ["leak.partition": "\(name)"])
        }
        return folded
    }

    /// Snapshots in the default partition (timestamps no hour bounds) leave row by row, as in SQLite.
    private func rollUpDefaultPartitionChunk(olderThanMs cutoffMs: Int64, limit: Int, connection: PostgresConnection) throws -> Int {
        let samples = try connection.run("""
            SELECT \(unescaped: SampleRecord.postgresColumns) FROM sample_default
            WHERE timestampMs < \(cutoffMs) ORDER BY timestampMs LIMIT \(Int64(limit))
            """).map(SampleRecord.init(postgres:))
        guard !samples.isEmpty else { return 0 }
        try upsert(Rollup.mergedByBucket(samples.map { SampleRollupRecord(sample: $0, resolutionSeconds: Rollup.minuteSeconds) }),
                   connection: connection)
        let ids = samples.compactMap(\.id)
        try connection.run("DELETE FROM sample_default WHERE id = ANY(\(ids))")
        return samples.count
    }

    private func rollUpMinuteChunk(olderThanMs cutoffMs: Int64, limit: Int, connection: PostgresConnection) throws -> Int {
        let minute = Rollup.minuteSeconds
        let minutes = try connection.run("""
            SELECT \(unescaped: SampleRollupRecord.postgresColumns) FROM sampleRollup
            WHERE resolutionSeconds = \(minute) AND bucketStartMs + \(minute * 1000) <= \(cutoffMs)
            ORDER BY bucketStartMs LIMIT \(Int64(limit))
            """).map(SampleRollupRecord.init(postgres:))
        guard !minutes.isEmpty else { return 0 }
        let hours = minutes.map { minute in
            var point = minute
            point.resolutionSeconds = Rollup.hourSeconds
            point.bucketStartMs = Rollup.bucketStart(minute.bucketStartMs, resolutionSeconds: Rollup.hourSeconds)
            return point
        }
        try upsert(Rollup.mergedByBucket(hours), connection: connection)
        try connection.run("""
            DELETE FROM sampleRollup r USING unnest(\(minutes.map(\.instanceId))::bigint[], \(minutes.map(\.bucketStartMs))::bigint[])
                AS k(instanceId, bucketStartMs)
            WHERE r.instanceId = k.instanceId AND r.resolutionSeconds = \(minute) AND r.bucketStartMs = k.bucketStartMs
            """)
        return minutes.count
    }

    /// Inserts buckets, merging into any bucket already stored (late data, chunk boundaries).
    private func upsert(_ buckets: [SampleRollupRecord], connection: PostgresConnection) throws {
        for var bucket in buckets {
            if let row = try connection.run("""
                SELECT \(unescaped: SampleRollupRecord.postgresColumns) FROM sampleRollup
                WHERE instanceId = \(bucket.instanceId) AND resolutionSeconds = \(bucket.resolutionSeconds)
                  AND bucketStartMs = \(bucket.bucketStartMs) FOR UPDATE
                """).first {
                var merged = try SampleRollupRecord(postgres: row)
                merged.merge(bucket)
                bucket = merged
            }
            try bucket.upsert(connection)
        }
    }

    private func binds(_ values: Int64...) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { bindings.append(value) }
        return bindings
    }
}
