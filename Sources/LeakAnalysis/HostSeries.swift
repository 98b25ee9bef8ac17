/// A host's series bucketed at every time scale the analyzer judges at: the configuration's own
/// and each of its `fastTimeScales`. Build it once from points; evaluating a prefix of it gives
/// the verdict the same points would give.
public struct HostSeries: Sendable {
    /// At the configuration's own bucket length.
    public var base: BucketedHostSeries
    /// One per `VerdictConfiguration.fastTimeScales`, in that order.
    public var fast: [BucketedHostSeries]

    public init(points: [HostPoint], sites: [SiteID: [SitePoint]], configuration: VerdictConfiguration) {
        var accumulator = HostSeriesAccumulator(configuration: configuration, keepingEverything: true)
        accumulator.append(points, sites: sites)
        self = accumulator.series
    }

    /// The buckets a verdict at the newest point reads, as the collector keeps them between passes
    /// (`HostSeriesAccumulator`): each scale only over its window and confirmation.
    public static func forNewestMoment(
        points: [HostPoint], sites: [SiteID: [SitePoint]], configuration: VerdictConfiguration
    ) -> HostSeries {
        var accumulator = HostSeriesAccumulator(configuration: configuration)
        accumulator.append(points, sites: sites)
        return accumulator.series
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
