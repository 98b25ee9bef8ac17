import Foundation

/// How raw snapshots fold into buckets: 60-second buckets from raw samples older than the raw
/// retention, 3600-second buckets from minute buckets older than theirs. Every backend folds the
/// same way, so a window reads the same from either.
enum Rollup {
    static let minuteSeconds: Int64 = 60
    static let hourSeconds: Int64 = 3600

    /// The start of the bucket of `resolutionSeconds` holding `timestampMs` (also before 1970).
    static func bucketStart(_ timestampMs: Int64, resolutionSeconds: Int64) -> Int64 {
        let width = resolutionSeconds * 1000
        return timestampMs - ((timestampMs % width) + width) % width
    }

    /// One rollup per (instance, bucket): points that fall in the same bucket are merged.
    static func mergedByBucket(_ points: [SampleRollupRecord]) -> [SampleRollupRecord] {
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
            bucketStartMs: Rollup.bucketStart(sample.timestampMs, resolutionSeconds: resolutionSeconds),
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
