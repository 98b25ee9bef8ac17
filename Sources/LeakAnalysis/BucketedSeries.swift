/// One bucket of a series: the floor (a low quantile) of the points that fell in it.
///
/// Buckets are aligned to multiples of `VerdictConfiguration.bucketSeconds` on the timestamp axis
/// and never straddle a restart, so the same points always give the same buckets, whoever cuts the
/// series and whenever.
public struct FloorBucket: Sendable, Hashable {
    /// floor(timestamp / bucketSeconds).
    public var index: Int64
    /// Ordinal of the process instance (0 for the first instance in the data, +1 per restart).
    public var instance: Int
    /// Start of that instance (timestamp − uptime when known).
    public var instanceStartSeconds: Double
    /// Low quantile of the bucket's values, bytes.
    public var floorBytes: Double
    /// Allocations per second over the bucket (host buckets only; nil when not measurable).
    public var allocationsPerSecond: Double?
}

/// A host's series cut into floor buckets, with its sites'. Build it once from points; evaluating a
/// prefix of it (`prefix(endingBeforeSeconds:)`) gives the verdict the same points would give.
public struct BucketedHostSeries: Sendable {
    public var bucketSeconds: Double
    public var host: [FloorBucket]
    public var sites: [SiteID: [FloorBucket]]

    public init(points: [HostPoint], sites sitePoints: [SiteID: [SitePoint]], configuration: VerdictConfiguration) {
        let bucketSeconds = configuration.bucketSeconds
        self.bucketSeconds = bucketSeconds
        let ordered = points.sorted { $0.timestampSeconds < $1.timestampSeconds }

        // Instances: a new instance id is a restart.
        var restartTimes: [Double] = []  // first timestamp of instances 1, 2, ...
        var instanceStarts: [Double] = []
        var previousID: String? = nil
        var instanceOfPoint: [Int] = []
        instanceOfPoint.reserveCapacity(ordered.count)
        for point in ordered {
            if point.instanceID != previousID {
                if previousID != nil { restartTimes.append(point.timestampSeconds) }
                instanceStarts.append(point.timestampSeconds - max(0, point.uptimeSeconds ?? 0))
                previousID = point.instanceID
            }
            instanceOfPoint.append(instanceStarts.count - 1)
        }

        var hostBuckets: [FloorBucket] = []
        var start = 0
        var values: [Double] = []
        while start < ordered.count {
            let index = Self.bucketIndex(ordered[start].timestampSeconds, bucketSeconds)
            let instance = instanceOfPoint[start]
            var end = start
            values.removeAll(keepingCapacity: true)
            while end < ordered.count, instanceOfPoint[end] == instance,
                Self.bucketIndex(ordered[end].timestampSeconds, bucketSeconds) == index
            {
                values.append(Double(ordered[end].heapBytes))
                end += 1
            }
            if values.count >= configuration.minimumPointsPerBucket,
                let floor = Quantile.of(values, configuration.bucketFloorQuantile)
            {
                var rate: Double? = nil
                let first = ordered[start]
                let last = ordered[end - 1]
                let elapsed = last.timestampSeconds - first.timestampSeconds
                if elapsed > 0, last.allocationCount >= first.allocationCount {
                    rate = Double(last.allocationCount - first.allocationCount) / elapsed
                }
                hostBuckets.append(
                    FloorBucket(
                        index: index, instance: instance, instanceStartSeconds: instanceStarts[instance],
                        floorBytes: floor, allocationsPerSecond: rate))
            }
            start = end
        }
        self.host = hostBuckets

        var siteBuckets: [SiteID: [FloorBucket]] = [:]
        for (siteID, series) in sitePoints {
            let sorted = series.sorted { $0.timestampSeconds < $1.timestampSeconds }
            var buckets: [FloorBucket] = []
            var position = 0
            while position < sorted.count {
                let index = Self.bucketIndex(sorted[position].timestampSeconds, bucketSeconds)
                let instance = Self.instance(at: sorted[position].timestampSeconds, restartTimes: restartTimes)
                var end = position
                values.removeAll(keepingCapacity: true)
                while end < sorted.count,
                    Self.bucketIndex(sorted[end].timestampSeconds, bucketSeconds) == index,
                    Self.instance(at: sorted[end].timestampSeconds, restartTimes: restartTimes) == instance
                {
                    values.append(Double(sorted[end].liveBytesEstimate))
                    end += 1
                }
                if values.count >= configuration.minimumPointsPerBucket,
                    let floor = Quantile.of(values, configuration.bucketFloorQuantile),
                    instance < instanceStarts.count
                {
                    buckets.append(
                        FloorBucket(
                            index: index, instance: instance, instanceStartSeconds: instanceStarts[instance],
                            floorBytes: floor, allocationsPerSecond: nil))
                }
                position = end
            }
            siteBuckets[siteID] = buckets
        }
        self.sites = siteBuckets
    }

    public init(bucketSeconds: Double, host: [FloorBucket], sites: [SiteID: [FloorBucket]]) {
        self.bucketSeconds = bucketSeconds
        self.host = host
        self.sites = sites
    }

    /// End of the newest bucket: the time the verdict is "as of".
    public var endSeconds: Double? {
        guard let last = host.last else { return nil }
        return Double(last.index + 1) * bucketSeconds
    }

    /// The buckets that end at or before `seconds` and start at or after `seconds − keepSeconds`.
    /// With `seconds` on a bucket boundary this is exactly what the points before `seconds` give.
    public func prefix(endingBeforeSeconds seconds: Double, keepingSeconds keepSeconds: Double) -> BucketedHostSeries {
        let endIndex = Int64((seconds / bucketSeconds).rounded(.down))
        let startIndex = Int64(((seconds - keepSeconds) / bucketSeconds).rounded(.up))
        func cut(_ buckets: [FloorBucket]) -> [FloorBucket] {
            let lower = Self.firstPosition(buckets, atLeast: startIndex)
            let upper = Self.firstPosition(buckets, atLeast: endIndex)
            return lower < upper ? Array(buckets[lower..<upper]) : []
        }
        return BucketedHostSeries(bucketSeconds: bucketSeconds, host: cut(host), sites: sites.mapValues(cut))
    }

    static func bucketIndex(_ seconds: Double, _ bucketSeconds: Double) -> Int64 {
        Int64((seconds / bucketSeconds).rounded(.down))
    }

    private static func instance(at seconds: Double, restartTimes: [Double]) -> Int {
        // Number of restarts at or before `seconds` (binary search).
        var low = 0
        var high = restartTimes.count
        while low < high {
            let middle = (low + high) / 2
            if restartTimes[middle] <= seconds { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func firstPosition(_ buckets: [FloorBucket], atLeast index: Int64) -> Int {
        var low = 0
        var high = buckets.count
        while low < high {
            let middle = (low + high) / 2
            if buckets[middle].index < index { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
