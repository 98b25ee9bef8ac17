/// A host's series bucketed at every time scale the analyzer judges at: the configuration's own
/// and each of its `fastTimeScales`. Build it once from points; evaluating a prefix of it gives
/// the verdict the same points would give.
public struct HostSeries: Sendable {
    /// At the configuration's own bucket length.
    public var base: BucketedHostSeries
    /// One per `VerdictConfiguration.fastTimeScales`, in that order.
    public var fast: [BucketedHostSeries]

    public init(points: [HostPoint], sites: [SiteID: [SitePoint]], configuration: VerdictConfiguration) {
        base = BucketedHostSeries(points: points, sites: sites, configuration: configuration)
        fast = configuration.fastTimeScales.map { scale in
            BucketedHostSeries(points: points, sites: sites, configuration: configuration.atFastScale(scale))
        }
    }

    /// The same buckets where the newest moment is concerned, at less cost: each fast scale is
    /// bucketed only over what its verdict at the newest point reads (its window, its confirmation
    /// and a bucket), instead of the whole 48 h at 10–150 s buckets (28 → 19–20 ms per host).
    /// Instances are told apart by their start (timestamp − uptime), so cutting the oldest points
    /// does not move a grace period when the points carry their uptime, as the collector's do.
    public static func forNewestMoment(
        points: [HostPoint], sites: [SiteID: [SitePoint]], configuration: VerdictConfiguration
    ) -> HostSeries {
        guard let newest = points.lazy.map(\.timestampSeconds).max() else {
            return HostSeries(points: points, sites: sites, configuration: configuration)
        }
        let base = BucketedHostSeries(points: points, sites: sites, configuration: configuration)
        let fast = configuration.fastTimeScales.map { scale in
            let fastConfiguration = configuration.atFastScale(scale)
            let bucket = fastConfiguration.bucketSeconds
            let span = fastConfiguration.windowSeconds + fastConfiguration.confirmationSeconds + 2 * bucket
            let oldest = ((newest - span) / bucket).rounded(.down) * bucket
            return BucketedHostSeries(
                points: points.filter { $0.timestampSeconds >= oldest },
                sites: sites.mapValues { $0.filter { $0.timestampSeconds >= oldest } },
                configuration: fastConfiguration)
        }
        return HostSeries(base: base, fast: fast)
    }

    init(base: BucketedHostSeries, fast: [BucketedHostSeries]) {
        self.base = base
        self.fast = fast
    }

    /// Each scale's buckets that end at or before `seconds`, within that scale's window.
    public func prefix(endingBeforeSeconds seconds: Double, configuration: VerdictConfiguration) -> HostSeries {
        HostSeries(
            base: base.prefix(endingBeforeSeconds: seconds, keepingSeconds: configuration.windowSeconds),
            fast: zip(fast, configuration.fastTimeScales).map { series, scale in
                let fastConfiguration = configuration.atFastScale(scale)
                return series.prefix(
                    endingBeforeSeconds: seconds,
                    keepingSeconds: fastConfiguration.windowSeconds + fastConfiguration.confirmationSeconds)
            })
    }
}
