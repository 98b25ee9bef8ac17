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

    /// Buckets of `points` and `sites` (any order) at the configuration's bucket length.
    public init(points: [HostPoint], sites sitePoints: [SiteID: [SitePoint]], configuration: VerdictConfiguration) {
        var oneScale = configuration
        oneScale.fastTimeScales = []
        var accumulator = HostSeriesAccumulator(configuration: oneScale, keepingEverything: true)
        accumulator.append(points, sites: sitePoints)
        self = accumulator.series.base
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
            let lower = buckets.partitioningIndex { $0.index >= startIndex }
            let upper = buckets.partitioningIndex { $0.index >= endIndex }
            return lower < upper ? Array(buckets[lower..<upper]) : []
        }
        return BucketedHostSeries(bucketSeconds: bucketSeconds, host: cut(host), sites: sites.mapValues(cut))
    }
}
