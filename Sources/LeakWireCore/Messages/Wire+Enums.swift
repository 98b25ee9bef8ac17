// The schema's enums, with the generated types' case names. Proto3 enums are open: a number this
// build does not know is kept as `unrecognized`, never refused.

extension Wire {
    public enum Role: Hashable, Sendable {
        case unspecified
        case agent
        case client
        case unrecognized(Int32)

        static let known: [Role] = [.unspecified, .agent, .client]

        public init(rawValue: Int32) {
            self = rawValue >= 0 && Int(rawValue) < Self.known.count ? Self.known[Int(rawValue)] : .unrecognized(rawValue)
        }

        public var rawValue: Int32 {
            if case .unrecognized(let value) = self { return value }
            return Int32(Self.known.firstIndex(of: self)!)
        }
    }

    public enum ErrorCode: Hashable, Sendable {
        case unspecified
        case unsupportedVersion
        case authenticationFailed
        case protocolViolation
        case frameTooLarge
        case malformedMessage
        case unknownHost
        case badRequest
        case `internal`
        case shuttingDown
        case handshakeTimeout
        case unrecognized(Int32)

        static let known: [ErrorCode] = [
            .unspecified, .unsupportedVersion, .authenticationFailed, .protocolViolation, .frameTooLarge,
            .malformedMessage, .unknownHost, .badRequest, .internal, .shuttingDown, .handshakeTimeout,
        ]

        public init(rawValue: Int32) {
            self = rawValue >= 0 && Int(rawValue) < Self.known.count ? Self.known[Int(rawValue)] : .unrecognized(rawValue)
        }

        public var rawValue: Int32 {
            if case .unrecognized(let value) = self { return value }
            return Int32(Self.known.firstIndex(of: self)!)
        }
    }

    public enum EventKind: Hashable, Sendable {
        case unspecified
        case thresholdWarning
        case thresholdCritical
        case thresholdCleared
        case snapshotsDropped
        case agentError
        case unrecognized(Int32)

        static let known: [EventKind] = [
            .unspecified, .thresholdWarning, .thresholdCritical, .thresholdCleared, .snapshotsDropped, .agentError,
        ]

        public init(rawValue: Int32) {
            self = rawValue >= 0 && Int(rawValue) < Self.known.count ? Self.known[Int(rawValue)] : .unrecognized(rawValue)
        }

        public var rawValue: Int32 {
            if case .unrecognized(let value) = self { return value }
            return Int32(Self.known.firstIndex(of: self)!)
        }
    }
}
