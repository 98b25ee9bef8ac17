/// Decides, per host and per allocation site, whether memory is `ok`, `growing` or a
/// `suspectedLeak`, with the rate (bytes/hour), since when, a confidence, and the sites responsible.
///
/// Pipeline, each step against a named false alarm:
/// 1. Points → 10-minute buckets aligned on the timestamp axis; each bucket's floor is a low
///    quantile (GC and batch peaks sit above it), then an opening over an hour (minimum then
///    maximum over a centred hour: sawtooth and peaks up to an hour go, a ramp stays where it is;
///    the newest half hour is not settled and is left out of the rate and shape tests).
/// 2. Series are segmented at restarts (a new instance id); the first `gracePeriodSeconds` of each
///    instance are not analysed (warm-up), and growth that slows over the instance's life is
///    saturation (warm-up tails, caches filling to a cap).
/// 3. When the allocation rate (traffic) varies, the floor is fitted against traffic lagged up to
///    8 h plus a trend, and the traffic part is removed (daily cycles, memory lagging traffic); a
///    trend is then only judged over a whole day until the day-over-day comparison of the floor is
///    possible, and after that the floor must also have grown day over day. A process first seen
///    while already running counts as having varying traffic for its first 6 h of data: a few
///    hours of steady traffic do not rule out a daily cycle near its peak or trough.
/// 4. Trailing windows (3, 6, 12, 24 h and the whole instance; a young instance's from an hour
///    after its grace period, where a warm-up tail no longer sits) are tested: Mann–Kendall on the
///    bucket floors with the Hamed–Rao autocorrelation correction (noisy wander), Theil–Sen slope of
///    the smoothed floor for the rate, materiality relative to the heap, growth against the
///    scatter around the trend line (noise), the smallest slope among the window's thirds (one-off
///    steps), last third against middle third (saturation), and growth against the largest fall the
///    floor made before the window or in earlier instances (wander that comes and goes).
///    Besides those fixed windows, the window since the onset of the current growth (a one-sided
///    CUSUM on the floor, looked for in the last 6 h) is tested once it is 1.5 h long, against a
///    trend score one higher (its start was picked at a minimum): a leak that began recently is
///    judged on the evidence since it began rather than once a fixed window lies inside it.
/// 5. A trend that held in the previous instances too, just before each restart, pooled with the
///    current one (leaks that reset at every restart): Seasonal-Kendall sums of S and Var(S), and
///    growth within an instance well clear of the bucket floors' scatter (sampling noise).
/// 6. Every site is judged the same way, with materiality relative to the host's heap, so a leaking
///    site is named even when another site's shrinking keeps the host total flat.
/// 7. A suspected leak must also have been one on the data available `confirmationSeconds` (1 h)
///    earlier: isolated crossings out of many windows × sites × evaluations are not reported.
///
/// Only snapshot timestamps are used, never the clock: verdicts are deterministic and a replay at
/// any speed reaches the verdicts reached in real time. Cost: O(n log n) in the raw points for the
/// bucketing (sorting inside each bucket), then O(m·w) for m buckets and w windows, each test on at
/// most `maximumPointsPerTest` points.
public struct LeakAnalyzer: Sendable {
    public var configuration: VerdictConfiguration

    public init(configuration: VerdictConfiguration = VerdictConfiguration()) {
        self.configuration = configuration
    }

    /// Verdict on a host from its points (any order, typically the last 48 h) and its sites' points.
    public func evaluateHost(_ points: [HostPoint], sites: [SiteID: [SitePoint]] = [:]) -> HostVerdict {
        evaluate(HostSeries.forNewestMoment(points: points, sites: sites, configuration: configuration))
    }

    /// Verdict at every time scale, the most severe decisive one kept: the base scale's, unless a
    /// fast scale found a leak fast enough to be certain sooner (a suspected leak, or one awaiting
    /// only its confirmation). A fast scale's lesser verdicts are not used: over minutes, sawtooth
    /// and bursts are growth too.
    public func evaluate(_ series: HostSeries) -> HostVerdict {
        var verdict = evaluate(series.base)
        for (scale, bucketed) in zip(configuration.fastTimeScales, series.fast) where verdict.status < .suspectedLeak {
            var fast = LeakAnalyzer(configuration: configuration.atFastScale(scale)).evaluate(bucketed)
            guard fast.isDecisive, fast.status > verdict.status else { continue }
            fast.total.timeScale = scale.factor
            for index in fast.sites.indices { fast.sites[index].verdict.timeScale = scale.factor }
            for index in fast.responsibleSites.indices { fast.responsibleSites[index].verdict.timeScale = scale.factor }
            verdict = fast
        }
        return verdict
    }

    /// Verdict on one site alone; `host` gives the restarts, the traffic and the heap the growth is
    /// measured against.
    public func evaluateSite(_ siteID: SiteID, points: [SitePoint], host: [HostPoint]) -> SiteVerdict {
        let verdict = evaluate(HostSeries(points: host, sites: [siteID: points], configuration: configuration))
        return verdict.sites.first { $0.siteID == siteID }
            ?? SiteVerdict(siteID: siteID, verdict: .ok(.insufficientData))
    }

    /// Verdict at the configuration's own time scale on an already bucketed series. Buckets older
    /// than `windowSeconds` before the newest bucket's end are ignored.
    public func evaluate(_ series: BucketedHostSeries) -> HostVerdict {
        guard let nowSeconds = series.endSeconds else {
            let total = TrendVerdict.insufficientData(moreNeededSeconds: nil)
            return HostVerdict(
                status: .ok, total: total, rateBytesPerHour: 0, sinceSeconds: nil, confidence: 0,
                responsibleSites: [], sites: [], evaluatedAtSeconds: nil)
        }
        var (total, sites, _) = judge(series, nowSeconds: nowSeconds)
        // Confirmation: a suspected leak must have been one `confirmationSeconds` earlier too, on the
        // data available then. Decided from timestamps only, so every caller agrees; it removes
        // the isolated crossings that many windows × many sites × many evaluations would produce.
        if configuration.confirmationSeconds > 0,
            total.status == .suspectedLeak || sites.contains(where: { $0.status == .suspectedLeak })
        {
            let earlierEnd = nowSeconds - configuration.confirmationSeconds
            let earlierSeries = series.prefix(endingBeforeSeconds: earlierEnd, keepingSeconds: configuration.windowSeconds)
            let earlier = earlierSeries.endSeconds.map { judge(earlierSeries, nowSeconds: $0) }
            if total.status == .suspectedLeak, earlier?.total.status != .suspectedLeak {
                total.status = .growing
                total.reason = .awaitingConfirmation
            }
            for index in sites.indices where sites[index].status == .suspectedLeak {
                let siteID = sites[index].siteID
                if earlier?.sites.first(where: { $0.siteID == siteID })?.status != .suspectedLeak {
                    sites[index].verdict.status = .growing
                    sites[index].verdict.reason = .awaitingConfirmation
                }
            }
        }
        let responsible = sites.filter { $0.status >= .growing && $0.rateBytesPerHour > 0 }.sorted {
            if $0.status != $1.status { return $0.status > $1.status }
            if $0.rateBytesPerHour != $1.rateBytesPerHour { return $0.rateBytesPerHour > $1.rateBytesPerHour }
            return $0.siteID < $1.siteID
        }
        let worstSite = responsible.first?.status ?? .ok
        var verdict = HostVerdict(
            status: max(total.status, worstSite), total: total, rateBytesPerHour: total.rateBytesPerHour,
            sinceSeconds: total.sinceSeconds, confidence: total.confidence, responsibleSites: responsible,
            sites: sites, evaluatedAtSeconds: nowSeconds)
        if worstSite > total.status {
            let deciding = responsible.filter { $0.status == worstSite }
            verdict.rateBytesPerHour = deciding.reduce(0) { $0 + $1.rateBytesPerHour }
            verdict.sinceSeconds = deciding.compactMap { $0.verdict.sinceSeconds }.min()
            verdict.confidence = deciding.map { $0.verdict.confidence }.max() ?? 0
        }
        return verdict
    }
}

extension LeakAnalyzer {
    /// Total and site verdicts on the window ending at `nowSeconds`, before confirmation.
    func judge(_ series: BucketedHostSeries, nowSeconds: Double) -> (total: TrendVerdict, sites: [SiteVerdict], heapScale: Double) {
        let window = series.prefix(endingBeforeSeconds: nowSeconds, keepingSeconds: configuration.windowSeconds)
        let analyzer = TrendAnalyzer(configuration: configuration)

        // Heap scale: median running-minimum floor of the current instance.
        let hostTimes = window.host.map { (Double($0.index) + 0.5) * window.bucketSeconds }
        let hostFloors = analyzer.runningMinimum(window.host, times: hostTimes)
        let currentInstance = window.host.last?.instance ?? 0
        let heapScale =
            Quantile.median(zip(window.host, hostFloors).filter { $0.0.instance == currentInstance }.map { $0.1 }) ?? 0

        let traffic = TrafficTable(window.host)
        let trafficAt: (Int64, Int) -> Double? = { traffic.rate(index: $0, instance: $1) }

        let total = analyzer.analyze(window.host, heapScale: heapScale, nowSeconds: nowSeconds, trafficAt: trafficAt)
        var sites: [SiteVerdict] = []
        for siteID in window.sites.keys.sorted() {
            let buckets = window.sites[siteID]!
            let verdict: TrendVerdict
            if buckets.last?.instance != currentInstance {
                verdict = .ok(.insufficientData)  // site not seen in the current instance
            } else if (buckets.lazy.map(\.floorBytes).max() ?? 0) < configuration.materialGrowthFraction * heapScale {
                // Live bytes are never negative: a site that never held the smallest material
                // growth cannot have grown by it. Most of a real host's sites are that small.
                verdict = .ok(.notMaterial)
            } else {
                verdict = analyzer.analyze(buckets, heapScale: heapScale, nowSeconds: nowSeconds, trafficAt: trafficAt)
            }
            sites.append(SiteVerdict(siteID: siteID, verdict: verdict))
        }
        return (total, sites, heapScale)
    }
}

/// The host's allocation rate by bucket index, read for every bucket × traffic lag of every series
/// judged: a dense table over the window's indices. At a restart within a bucket interval, the
/// newest bucket with a rate stands for that interval.
struct TrafficTable {
    private let firstIndex: Int64
    private let entries: [(instance: Int, rate: Double)?]

    init(_ buckets: [FloorBucket]) {
        let first = buckets.first?.index ?? 0
        var entries: [(instance: Int, rate: Double)?] = Array(
            repeating: nil, count: buckets.last.map { Int($0.index - first) + 1 } ?? 0)
        for bucket in buckets {
            if let rate = bucket.allocationsPerSecond { entries[Int(bucket.index - first)] = (bucket.instance, rate) }
        }
        self.firstIndex = first
        self.entries = entries
    }

    func rate(index: Int64, instance: Int) -> Double? {
        let offset = index - firstIndex
        guard offset >= 0, offset < Int64(entries.count), let entry = entries[Int(offset)], entry.instance == instance
        else { return nil }
        return entry.rate
    }
}

/// Convenience for `LeakAnalyzer(configuration:).evaluateHost(_:sites:)`.
public func evaluateHost(
    _ points: [HostPoint], sites: [SiteID: [SitePoint]] = [:], configuration: VerdictConfiguration = VerdictConfiguration()
) -> HostVerdict {
    LeakAnalyzer(configuration: configuration).evaluateHost(points, sites: sites)
}
