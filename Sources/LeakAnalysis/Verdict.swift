/// The verdict on one series.
public enum LeakStatus: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// No material, sustained growth.
    case ok = 0
    /// Growth that is significant and material but does not (yet) have the shape of a leak: it
    /// saturates, comes from a single step, follows traffic, or is too short.
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
    case weakTrend
    case stepLike
    case saturating
    case explainedByTraffic
    case noDayOverDayGrowth
    /// The growth is no larger than falls the same series made before the window (wander).
    case withinPastSwings
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

    static func ok(_ reason: VerdictReason) -> TrendVerdict {
        TrendVerdict(status: .ok, reason: reason, rateBytesPerHour: 0, sinceSeconds: nil, confidence: 0, windowSeconds: 0)
    }
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
}
