extension Wire {
    /// A message a collector sends an agent, decoded from one frame.
    public enum CollectorMessage: Hashable, Sendable, WireDecodable {
        case challenge(Challenge)
        case welcome(Welcome)
        case ack(Ack)
        case error(Error)
        /// A well-formed frame of a kind a collector never sends an agent (a query's response);
        /// its body is not read.
        case other(MessageKind)

        public init(_ frame: LeakWireCore.Frame) throws(WireError) {
            switch frame.kind {
            case .challenge: self = .challenge(try Challenge(decoding: frame.body))
            case .welcome: self = .welcome(try Welcome(decoding: frame.body))
            case .ack: self = .ack(try Ack(decoding: frame.body))
            case .error: self = .error(try Error(decoding: frame.body))
            default: self = .other(frame.kind)
            }
        }

        public var kind: MessageKind {
            switch self {
            case .challenge: .challenge
            case .welcome: .welcome
            case .ack: .ack
            case .error: .error
            case .other(let kind): kind
            }
        }

        /// A short name for logs and errors, as `WireMessage.name`.
        public var name: String { "\(kind)" }
    }
}
