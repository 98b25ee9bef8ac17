import Foundation
import PostgresNIO

/// The records read back from PostgreSQL rows, each from the columns its `columns` lists, in order.
extension HostRecord {
    static let postgresColumns = "id, name, serviceName, firstSeenMs, lastSeenMs"

    init(postgres row: PostgresRow) throws {
        var c = PostgresColumns(row)
        self.init(id: try c.next(), name: try c.next(), serviceName: try c.next(), firstSeenMs: try c.next(), lastSeenMs: try c.next())
    }
}

extension SampleRecord {
    static let postgresColumns = """
        id, instanceId, sequence, hostId, timestampMs, bytesAllocatedTotal, bytesInUse, peakBytesInUse, allocationCount,
        freeCount, blocksOutstanding, residentBytes, uptimeSeconds, sites, patterns, trackerBytes, agentHeapBytes
        """
    /// The same columns with empty blobs: listings that need no per-site values.
    static let postgresColumnsWithoutBlobs = """
        id, instanceId, sequence, hostId, timestampMs, bytesAllocatedTotal, bytesInUse, peakBytesInUse, allocationCount,
        freeCount, blocksOutstanding, residentBytes, uptimeSeconds, ''::bytea, ''::bytea, trackerBytes, agentHeapBytes
        """

    init(postgres row: PostgresRow) throws {
        var c = PostgresColumns(row)
        self.init(
            id: try c.next(), instanceId: try c.next(), sequence: try c.next(), hostId: try c.next(), timestampMs: try c.next(),
            bytesAllocatedTotal: try c.next(), bytesInUse: try c.next(), peakBytesInUse: try c.next(),
            allocationCount: try c.next(), freeCount: try c.next(), blocksOutstanding: try c.next(),
            residentBytes: try c.next(), uptimeSeconds: try c.next(), sites: try c.next(), patterns: try c.next(),
            trackerBytes: try c.next(), agentHeapBytes: try c.next())
    }
}

extension SampleRollupRecord {
    static let postgresColumns = """
        instanceId, resolutionSeconds, bucketStartMs, hostId, pointCount, lastTimestampMs, bytesInUseMin, bytesInUseMax,
        bytesInUseLast, residentBytesMin, residentBytesMax, peakBytesInUseMax, bytesAllocatedTotalLast, allocationCountLast,
        freeCountLast, blocksOutstandingLast, uptimeSecondsLast, sites
        """

    init(postgres row: PostgresRow) throws {
        var c = PostgresColumns(row)
        self.init(
            instanceId: try c.next(), resolutionSeconds: try c.next(), bucketStartMs: try c.next(), hostId: try c.next(),
            pointCount: try c.next(), lastTimestampMs: try c.next(), bytesInUseMin: try c.next(), bytesInUseMax: try c.next(),
            bytesInUseLast: try c.next(), residentBytesMin: try c.next(), residentBytesMax: try c.next(),
            peakBytesInUseMax: try c.next(), bytesAllocatedTotalLast: try c.next(), allocationCountLast: try c.next(),
            freeCountLast: try c.next(), blocksOutstandingLast: try c.next(), uptimeSecondsLast: try c.next(), sites: try c.next())
    }

    /// Inserts the bucket, or replaces the stored one of the same key (already merged with it).
    func upsert(_ connection: PostgresConnection) throws {
        try connection.run("""
            INSERT INTO sampleRollup (\(unescaped: Self.postgresColumns))
            VALUES (\(instanceId), \(resolutionSeconds), \(bucketStartMs), \(hostId), \(pointCount), \(lastTimestampMs),
                \(bytesInUseMin), \(bytesInUseMax), \(bytesInUseLast), \(residentBytesMin), \(residentBytesMax),
                \(peakBytesInUseMax), \(bytesAllocatedTotalLast), \(allocationCountLast), \(freeCountLast),
                \(blocksOutstandingLast), \(uptimeSecondsLast), \(sites))
            ON CONFLICT (instanceId, resolutionSeconds, bucketStartMs) DO UPDATE SET
                pointCount = EXCLUDED.pointCount, lastTimestampMs = EXCLUDED.lastTimestampMs,
                bytesInUseMin = EXCLUDED.bytesInUseMin, bytesInUseMax = EXCLUDED.bytesInUseMax,
                bytesInUseLast = EXCLUDED.bytesInUseLast, residentBytesMin = EXCLUDED.residentBytesMin,
                residentBytesMax = EXCLUDED.residentBytesMax, peakBytesInUseMax = EXCLUDED.peakBytesInUseMax,
                bytesAllocatedTotalLast = EXCLUDED.bytesAllocatedTotalLast, allocationCountLast = EXCLUDED.allocationCountLast,
                freeCountLast = EXCLUDED.freeCountLast, blocksOutstandingLast = EXCLUDED.blocksOutstandingLast,
                uptimeSecondsLast = EXCLUDED.uptimeSecondsLast, sites = EXCLUDED.sites
            """)
    }
}

extension StackRecord {
    static let postgresColumns = "id, digest, frameCount, frames, typeName, firstSeenMs, lastSeenMs"

    init(postgres row: PostgresRow) throws {
        var c = PostgresColumns(row)
        self.init(
            id: try c.next(), digest: try c.next(), frameCount: try c.next(), frames: try c.next(), typeName: try c.next(),
            firstSeenMs: try c.next(), lastSeenMs: try c.next())
    }
}

extension EventRecord {
    static let postgresColumns = "id, hostId, instanceId, timestampMs, kind, severity, message, value, thresholdBytes"

    init(postgres row: PostgresRow) throws {
        var c = PostgresColumns(row)
        self.init(
            id: try c.next(), hostId: try c.next(), instanceId: try c.next(), timestampMs: try c.next(), kind: try c.next(),
            severity: try c.next(), message: try c.next(), value: try c.next(), thresholdBytes: try c.next())
    }
}

extension VerdictRecord {
    static let postgresColumns = "id, hostId, evaluatedAtMs, status, rateBytesPerHour, sinceMs, confidence, summary, sites"

    init(postgres row: PostgresRow) throws {
        var c = PostgresColumns(row)
        self.init(
            id: try c.next(), hostId: try c.next(), evaluatedAtMs: try c.next(), status: try c.next(),
            rateBytesPerHour: try c.next(), sinceMs: try c.next(), confidence: try c.next(), summary: try c.next(),
            sites: try c.next())
    }
}

extension MemoryErrorRecord {
    static let postgresColumns = """
        id, hostId, instanceId, timestampMs, kind, access, faultAddress, blockOffset, blockSizeBytes, threadId, recovered,
        accessStackId, allocationStackId, freeStackId
        """

    init(postgres row: PostgresRow) throws {
        var c = PostgresColumns(row)
        self.init(
            id: try c.next(), hostId: try c.next(), instanceId: try c.next(), timestampMs: try c.next(), kind: try c.next(),
            access: try c.next(), faultAddress: try c.next(), blockOffset: try c.next(), blockSizeBytes: try c.next(),
            threadId: try c.next(), recovered: try c.next(), accessStackId: try c.next(), allocationStackId: try c.next(),
            freeStackId: try c.next())
    }
}
