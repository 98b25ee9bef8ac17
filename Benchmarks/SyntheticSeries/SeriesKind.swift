import LeakAnalysis

/// Kinds of labelled synthetic series: the false alarms a detector must not raise and the leaks it
/// must find (DESIGN.md, "Leak verdicts").
public enum SeriesKind: String, CaseIterable, Sendable, Hashable {
    // Must stay ok.
    case warmUpPlateau
    case cacheFillToCap
    case sawtooth
    case dailyCycle
    case dailyCycleLagged
    case oneOffStep
    case noisyFlat
    case restarts
    case reportingGaps
    // Must be flagged.
    case slowLeak
    case lateLeak
    case stepwiseLeak
    case leakOnDailyCycle
    case restartResetLeak
    case maskedSiteLeak

    public var isLeak: Bool {
        switch self {
        case .slowLeak, .lateLeak, .stepwiseLeak, .leakOnDailyCycle, .restartResetLeak, .maskedSiteLeak: true
        default: false
        }
    }
}

/// One labelled series: host points, per-site points, and the truth.
public struct LabelledSeries: Sendable {
    public var kind: SeriesKind
    public var seed: UInt64
    public var points: [HostPoint]
    public var sites: [SiteID: [SitePoint]]
    public var startSeconds: Double
    public var endSeconds: Double
    /// When the leak begins (nil for a series that must stay ok).
    public var leakStartSeconds: Double?
    /// Sites that leak (the verdict must name exactly these).
    public var leakingSites: Set<SiteID>
}
