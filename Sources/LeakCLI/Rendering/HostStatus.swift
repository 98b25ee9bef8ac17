import LeakWire

/// A verdict status as collector-cli names it, in text and in JSON.
public enum HostStatus: String, Sendable, CaseIterable, Comparable {
    /// Not enough data for a verdict yet (the protocol's `VERDICT_STATUS_UNKNOWN`): never an all-clear.
    case notEnoughData = "not-enough-data"
    case ok = "ok"
    case growing = "growing"
    case suspectedLeak = "suspected-leak"

    public init(_ status: Leakwatch_V1_VerdictStatus) {
        switch status {
        case .ok: self = .ok
        case .growing: self = .growing
        case .suspectedLeak: self = .suspectedLeak
        default: self = .notEnoughData
        }
    }

    /// Larger is more suspicious: the order of `hosts`.
    public var suspicionRank: Int {
        switch self {
        case .suspectedLeak: 3
        case .growing: 2
        case .ok: 1
        case .notEnoughData: 0
        }
    }

    public static func < (lhs: HostStatus, rhs: HostStatus) -> Bool { lhs.suspicionRank < rhs.suspicionRank }

    /// `SUSPECTED LEAK`, `GROWING`, `OK`, `NOT ENOUGH DATA`.
    public var headline: String {
        switch self {
        case .suspectedLeak: "SUSPECTED LEAK"
        case .growing: "GROWING"
        case .ok: "OK"
        case .notEnoughData: "NOT ENOUGH DATA"
        }
    }
}
