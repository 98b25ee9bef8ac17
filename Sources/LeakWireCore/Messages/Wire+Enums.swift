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
        case memoryError
        case unrecognized(Int32)

        static let known: [EventKind] = [
            .unspecified, .thresholdWarning, .thresholdCritical, .thresholdCleared, .snapshotsDropped, .agentError,
            .memoryError,
        ]

        public init(rawValue: Int32) {
            self = rawValue >= 0 && Int(rawValue) < Self.known.count ? Self.known[Int(rawValue)] : .unrecognized(rawValue)
        }

        public var rawValue: Int32 {
            if case .unrecognized(let value) = self { return value }
            return Int32(Self.known.firstIndex(of: self)!)
        }
    }

    public enum MemoryErrorKind: Hashable, Sendable {
        case unspecified
        case heapBufferOverflow
        case heapBufferUnderflow
        case heapUseAfterFree
        case doubleFree
        case invalidFree
        case wildAccess
        case unrecognized(Int32)

        static let known: [MemoryErrorKind] = [
            .unspecified, .heapBufferOverflow, .heapBufferUnderflow, .heapUseAfterFree, .doubleFree, .invalidFree, .wildAccess,
        ]

        public init(rawValue: Int32) {
            self = rawValue >= 0 && Int(rawValue) < Self.known.count ? Self.known[Int(rawValue)] : .unrecognized(rawValue)
        }

        public var rawValue: Int32 {
            if case .unrecognized(let value) = self { return value }
            return Int32(Self.known.firstIndex(of: self)!)
        }
    }

    public enum MemoryAccess: Hashable, Sendable {
        case unknown
        case read
        case write
        case free
        case unrecognized(Int32)

        static let known: [MemoryAccess] = [.unknown, .read, .write, .free]

        public init(rawValue: Int32) {
            self = rawValue >= 0 && Int(rawValue) < Self.known.count ? Self.known[Int(rawValue)] : .unrecognized(rawValue)
        }

        public var rawValue: Int32 {
            if case .unrecognized(let value) = self { return value }
            return Int32(Self.known.firstIndex(of: self)!)
        }
    }
}
