/// A Snapshot that decodes but breaks a rule of docs/PROTOCOL.md, "Validation": it names the
/// snapshot, the field and the value.
///
/// On the wire it is an `Error` with `ERROR_CODE_MALFORMED_MESSAGE` and `request_id` = the
/// snapshot's sequence, and the connection stays open: the collector will never accept this
/// snapshot, so the agent drops it and goes on (`Wire.Error.rejectedSnapshotSequence`). A public
/// struct wrapping a private enum, so new rules never break callers; equality looks at the rule only.
public struct SnapshotViolation: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Rule: Hashable, Sendable {
        case notFinite
        case negative
        case aboveBound
        case ranBackwards
        case tooEarly
        case beforeProcessStart
        case aheadOfCollector
        case tooLong
        case tooDeep
    }

    private let rule: Rule
    /// The snapshot's sequence (0 when checking something that has none).
    public let sequence: UInt64
    /// The field as the schema names it, with indices: `stats.uptime_seconds`,
    /// `stacks[2].frames[0].function`.
    public let field: String
    /// The value and what was expected.
    public let detail: String

    private init(_ rule: Rule, sequence: UInt64 = 0, field: String = "", detail: String = "") {
        self.rule = rule
        self.sequence = sequence
        self.field = field
        self.detail = detail
    }

    public static func == (lhs: SnapshotViolation, rhs: SnapshotViolation) -> Bool { lhs.rule == rhs.rule }
    public func hash(into hasher: inout Hasher) { hasher.combine(rule) }

    /// A float is NaN or infinite.
    public static let notFinite = SnapshotViolation(.notFinite)
    /// A float that cannot be negative is.
    public static let negative = SnapshotViolation(.negative)
    /// A counter or a float beyond its documented bound (`SnapshotLimits`).
    public static let aboveBound = SnapshotViolation(.aboveBound)
    /// A cumulative counter is lower than in the previous accepted snapshot of its process.
    public static let ranBackwards = SnapshotViolation(.ranBackwards)
    /// A timestamp before `SnapshotLimits.earliestTimestampUnixNanos`.
    public static let tooEarly = SnapshotViolation(.tooEarly)
    /// A timestamp more than `maximumFutureSkewSeconds` before its process's start (Hello's
    /// `process_start_unix_nanos`).
    public static let beforeProcessStart = SnapshotViolation(.beforeProcessStart)
    /// A timestamp further ahead of the collector's clock than `maximumFutureSkewSeconds`.
    public static let aheadOfCollector = SnapshotViolation(.aheadOfCollector)
    /// A string longer than `maximumStringBytes`.
    public static let tooLong = SnapshotViolation(.tooLong)
    /// A stack deeper than `maximumFramesPerStack`.
    public static let tooDeep = SnapshotViolation(.tooDeep)

    /// The same rule, about one field of one snapshot.
    func at(_ field: String, sequence: UInt64, _ detail: String) -> SnapshotViolation {
        SnapshotViolation(rule, sequence: sequence, field: field, detail: detail)
    }

    public var description: String {
        "snapshot \(sequence) rejected: \(field) \(detail); the collector will never accept this snapshot, "
            + "so the agent drops it and sends the next (fix the agent that produced it)"
    }

    /// The Error frame telling the agent: MALFORMED_MESSAGE, `request_id` = the sequence.
    public var errorMessage: Leakwatch_V1_Error {
        var message = Leakwatch_V1_Error()
        message.code = .malformedMessage
        message.message = description
        message.requestID = sequence
        return message
    }
}
