/// The verdict on one series.
public enum LeakStatus: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// No material, sustained growth.
    case ok = 0
    /// Material, steady growth that passed every guard (steps, saturation, noise, past swings,
    /// daily cycles) but whose trend score is not yet conclusive, or that awaits its confirmation.
    /// Growth a guard explains is `ok`, with that guard as its reason.
    case growing = 1
    /// Sustained, material growth that passed every test.
    case suspectedLeak = 2

    public static func < (lhs: LeakStatus, rhs: LeakStatus) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .ok: "ok"
        case .growing: "growing"
        case .suspectedLeak: "suspectedLeak"
        }
    }
}

/// Why a verdict is what it is: the test that decided it.
public enum VerdictReason: String, Sendable, Hashable {
    case insufficientData
    case noTrend
    case notMaterial
    /// The trend is real but below `leakZ` (status growing).
    case weakTrend
    /// The growth does not stand clear of the scatter around its trend line.
    case withinNoise
    case stepLike
    case saturating
    case explainedByTraffic
    case noDayOverDayGrowth
    /// The growth is no larger than falls the same series made before the window (wander).
    case withinPastSwings
    /// Traffic varies and a whole day has not been seen, and the growth is no larger than a daily
    /// cycle of `dailyCycleAmplitudeFraction` could make over the window.
    case possibleDailyCycle
    /// Passed every test now but not `confirmationSeconds` earlier.
    case awaitingConfirmation
    case sustainedGrowth
    case growthAcrossRestarts
}

/// Verdict on one series (a host total or one site).
public struct TrendVerdict: Sendable, Hashable {
    public var status: LeakStatus
    public var reason: VerdictReason
    /// Theil–Sen slope of the floor over the deciding window, bytes per hour (0 when no trend).
    public var rateBytesPerHour: Double
    /// Estimated start of the growth (snapshot timestamp), nil when status is ok.
    public var sinceSeconds: Double?
    /// Strength of the evidence for a leak, 0...1: the Mann–Kendall probability of an upward trend
    /// scaled by how evenly the growth is spread over the window. Low for ok, high for a leak.
    public var confidence: Double
    /// Length of the window that decided, seconds.
    public var windowSeconds: Double
    /// Mann–Kendall score (Hamed–Rao corrected) of the deciding window; 0 when no test ran.
    public var trendScore: Double = 0
    /// With `insufficientData`: how much more data the first trend test needs, seconds (nil when
    /// the series is too short for any estimate, e.g. no bucket yet).
    public var moreDataNeededSeconds: Double? = nil
    /// Time-scale factor of the analysis that decided (1: the configuration's own durations; a
    /// fast scale divides them, for leaks fast enough to be certain sooner).
    public var timeScale: Double = 1

    static func ok(_ reason: VerdictReason) -> TrendVerdict {
        TrendVerdict(status: .ok, reason: reason, rateBytesPerHour: 0, sinceSeconds: nil, confidence: 0, windowSeconds: 0)
    }

    /// Growth that a guard explains: ok, with that guard as the reason.
    mutating func holdBack(_ guardReason: VerdictReason) {
        status = .ok
        reason = guardReason
        sinceSeconds = nil
        confidence *= 0.5
    }

    static func insufficientData(moreNeededSeconds: Double?) -> TrendVerdict {
        var verdict = TrendVerdict.ok(.insufficientData)
        verdict.moreDataNeededSeconds = moreNeededSeconds.map { max(0, $0) }
        return verdict
    }

    /// No test could run yet: neither ok nor growing.
    public var isInsufficientData: Bool { status == .ok && reason == .insufficientData }
}

/// Verdict on one allocation site.
public struct SiteVerdict: Sendable, Hashable {
    public var siteID: SiteID
    public var verdict: TrendVerdict
    public var status: LeakStatus { verdict.status }
    public var rateBytesPerHour: Double { verdict.rateBytesPerHour }
}

/// Verdict on one host.
public struct HostVerdict: Sendable, Hashable {
    /// The worst of the host total's verdict and its sites' (a leaking site makes a leaking host
    /// even when another site's shrinking hides it in the total).
    public var status: LeakStatus
    /// The host total's own verdict.
    public var total: TrendVerdict
    /// Rate in bytes/hour: the total's when it decided the status, else the sum over the sites
    /// that did.
    public var rateBytesPerHour: Double
    public var sinceSeconds: Double?
    public var confidence: Double
    /// Sites that grow (status growing or suspectedLeak), suspected leaks first, then by rate.
    public var responsibleSites: [SiteVerdict]
    /// Every site's verdict, ordered by site id.
    public var sites: [SiteVerdict]
    /// Timestamp of the newest point evaluated.
    public var evaluatedAtSeconds: Double?

    /// No trend test could run on the host yet: "not enough data", never an all-clear.
    public var isInsufficientData: Bool { status == .ok && total.isInsufficientData }

    /// A verdict that stands on its own at any time scale: a suspected leak, or growth that passed
    /// every test but its confirmation (the total's or a site's).
    var isDecisive: Bool {
        func decisive(_ verdict: TrendVerdict) -> Bool {
            verdict.status == .suspectedLeak || verdict.reason == .awaitingConfirmation
        }
        return decisive(total) || sites.contains { decisive($0.verdict) }
    }
}
