/// A host's floor buckets at every time scale the analyzer judges at, kept up to date as its
/// snapshots arrive: a verdict pass adds what arrived since the last one instead of bucketing the
/// whole window again. `series` is what `HostSeries(points:sites:configuration:)` gives on every
/// point added, within what a verdict at the newest moment reads (the window and the
/// confirmation at each scale).
public struct HostSeriesAccumulator: Sendable {
    public let configuration: VerdictConfiguration
    private var timeline = InstanceTimeline()
    private var base: ScaleBucketer
    private var fast: [ScaleBucketer]
    /// Timestamp of the newest point added.
    public private(set) var newestSeconds: Double?
    /// Points not added because they were older than one already added (a late snapshot).
    public private(set) var outOfOrderPoints = 0

    public init(configuration: VerdictConfiguration) {
        self.init(configuration: configuration, keepingEverything: false)
    }

    /// `keepingEverything`: no bucket is ever forgotten (a whole series bucketed once, to judge
    /// any prefix of it).
    init(configuration: VerdictConfiguration, keepingEverything: Bool) {
        self.configuration = configuration
        func scale(_ configuration: VerdictConfiguration) -> ScaleBucketer {
            ScaleBucketer(
                configuration: configuration, keepingSeconds: keepingEverything ? .infinity : Self.readSpanSeconds(configuration))
        }
        base = scale(configuration)
        fast = configuration.fastTimeScales.map { scale(configuration.atFastScale($0)) }
    }

    /// What a verdict reads back from its newest bucket: the window, the confirmation's earlier
    /// window and the bucket the newest point is in.
    public static func readSpanSeconds(_ configuration: VerdictConfiguration) -> Double {
        configuration.windowSeconds + configuration.confirmationSeconds + configuration.bucketSeconds
    }

    /// Adds the points (and the sites' points of the same snapshots) newer than every point added
    /// so far; older host points are counted in `outOfOrderPoints` and left out.
    public mutating func append(_ points: [HostPoint], sites: [SiteID: [SitePoint]] = [:]) {
        let floor = newestSeconds ?? -Double.infinity
        var ordered = points.sorted { $0.timestampSeconds < $1.timestampSeconds }
        let fresh = ordered.firstIndex { $0.timestampSeconds > floor } ?? ordered.count
        outOfOrderPoints += fresh
        ordered.removeFirst(fresh)
        let instances = ordered.map { timeline.instance(of: $0) }
        let siteSeries = sites.mapValues { series in
            series.filter { $0.timestampSeconds > floor }.sorted { $0.timestampSeconds < $1.timestampSeconds }
        }
        let instanceTimeline = timeline
        func add(_ scale: inout ScaleBucketer) {
            scale.addHost(ordered, instances: instances, timeline: instanceTimeline)
            for (siteID, series) in siteSeries { scale.addSite(siteID, series, timeline: instanceTimeline) }
            scale.dropOldBuckets()
        }
        add(&base)
        for index in fast.indices { add(&fast[index]) }
        if let newest = ordered.last?.timestampSeconds { newestSeconds = newest }
    }

    public var series: HostSeries { HostSeries(base: base.series, fast: fast.map(\.series)) }
}

/// The buckets of a host and its sites at one bucket length, forgetting those more than
/// `keepingSeconds` older than the newest.
struct ScaleBucketer: Sendable {
    private let bucketSeconds: Double
    private let minimumPoints: Int
    private let floorQuantile: Double
    private let keepingSeconds: Double
    private var host: FloorBucketer
    private var sites: [SiteID: FloorBucketer] = [:]

    init(configuration: VerdictConfiguration, keepingSeconds: Double) {
        bucketSeconds = configuration.bucketSeconds
        minimumPoints = configuration.minimumPointsPerBucket
        floorQuantile = configuration.bucketFloorQuantile
        self.keepingSeconds = keepingSeconds
        host = FloorBucketer(bucketSeconds: bucketSeconds, minimumPoints: minimumPoints, floorQuantile: floorQuantile)
    }

    /// Host points in time order with their instance ordinals.
    mutating func addHost(_ points: [HostPoint], instances: [Int], timeline: InstanceTimeline) {
        for (point, instance) in zip(points, instances) {
            host.add(
                seconds: point.timestampSeconds, value: Double(point.heapBytes), instance: instance,
                instanceStartSeconds: timeline.starts[instance], allocations: point.allocationCount)
        }
    }

    /// A site's points in time order; each belongs to the instance running at its time.
    mutating func addSite(_ siteID: SiteID, _ points: [SitePoint], timeline: InstanceTimeline) {
        // Taken out of the dictionary while it grows, so that its arrays are not copied on write.
        var bucketer = sites.removeValue(forKey: siteID)
            ?? FloorBucketer(bucketSeconds: bucketSeconds, minimumPoints: minimumPoints, floorQuantile: floorQuantile)
        defer { sites[siteID] = bucketer }
        guard !timeline.starts.isEmpty else { return }  // no instance to place them in
        for point in points {
            let instance = timeline.instance(at: point.timestampSeconds)
            bucketer.add(
                seconds: point.timestampSeconds, value: Double(point.liveBytesEstimate), instance: instance,
                instanceStartSeconds: timeline.starts[instance], allocations: nil)
        }
    }

    mutating func dropOldBuckets() {
        guard keepingSeconds.isFinite, let newest = host.newestIndex else { return }
        let oldest = newest - Int64((keepingSeconds / bucketSeconds).rounded(.up))
        host.dropBuckets(before: oldest)
        for siteID in Array(sites.keys) {
            if (sites[siteID]?.newestIndex).map({ $0 < oldest }) ?? true {
                sites[siteID] = nil  // not seen within the span: nothing of it is read any more
            } else {
                sites[siteID]?.dropBuckets(before: oldest)
            }
        }
    }

    var series: BucketedHostSeries {
        BucketedHostSeries(bucketSeconds: bucketSeconds, host: host.buckets, sites: sites.mapValues(\.buckets))
    }
}
