/// Everything that can go wrong on the wire: framing, limits, compression, messages,
/// the handshake and the blocking connection.
///
/// A public struct wrapping a private enum, so new cases never break callers. Compare
/// with the static members (`error == .frameTooLarge`): equality looks at the case
/// only, never at ``detail``.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case truncated
        case badMagic
        case unsupportedVersion
        case reservedFlags
        case unknownKind
        case frameTooLarge
        case bodyTooLargeAfterInflate
        case inflateRatioExceeded
        case corruptCompressedBody
        case malformedMessage
        case unexpectedMessage
        case noCommonVersion
        case authenticationFailed
        case remoteError
        case nameResolutionFailed
        case connectFailed
        case connectionClosed
        case timedOut
        case ioFailed
        case cancelled
        case descriptorLost
        case cryptoFailed
        case tlsFailed
    }

    private let code: Code
    /// What happened, for people: specific values, what was expected.
    public let detail: String

    private init(_ code: Code, _ detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public static func == (lhs: WireError, rhs: WireError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String {
        detail.isEmpty ? "WireError.\(code)" : "WireError.\(code): \(detail)"
    }

    /// The stream ended inside a frame.
    public static let truncated = WireError(.truncated)
    /// The first header byte is not the frame magic 0x4C ('L'): not a Leakwatch peer.
    public static let badMagic = WireError(.badMagic)
    /// The frame header's version byte is not one this build reads.
    public static let unsupportedVersion = WireError(.unsupportedVersion)
    /// A flag bit that this version leaves reserved is set.
    public static let reservedFlags = WireError(.reservedFlags)
    /// The kind byte names no message.
    public static let unknownKind = WireError(.unknownKind)
    /// The header announces a body longer than `WireLimits.maximumFrameBodyBytes`.
    public static let frameTooLarge = WireError(.frameTooLarge)
    /// A deflated body inflates beyond `WireLimits.maximumInflatedBodyBytes`.
    public static let bodyTooLargeAfterInflate = WireError(.bodyTooLargeAfterInflate)
    /// A deflated body inflates more than `WireLimits.maximumInflateRatio` times its size
    /// (a zlib bomb).
    public static let inflateRatioExceeded = WireError(.inflateRatioExceeded)
    /// A body flagged DEFLATED is not a valid zlib stream.
    public static let corruptCompressedBody = WireError(.corruptCompressedBody)
    /// The body is not a valid protobuf encoding of the message its kind names.
    public static let malformedMessage = WireError(.malformedMessage)
    /// A well-formed message arrived in a state where it is not allowed.
    public static let unexpectedMessage = WireError(.unexpectedMessage)
    /// The peers share no protocol version.
    public static let noCommonVersion = WireError(.noCommonVersion)
    /// The authentication proof did not verify (wrong token, or a replayed proof).
    public static let authenticationFailed = WireError(.authenticationFailed)
    /// The peer sent an Error frame; `detail` carries its code and message.
    public static let remoteError = WireError(.remoteError)
    /// getaddrinfo could not resolve the collector's host name.
    public static let nameResolutionFailed = WireError(.nameResolutionFailed)
    /// No address of the collector accepted the connection.
    public static let connectFailed = WireError(.connectFailed)
    /// The peer closed the connection.
    public static let connectionClosed = WireError(.connectionClosed)
    /// A connect, read or write did not finish within its timeout.
    public static let timedOut = WireError(.timedOut)
    /// A socket call failed (errno in `detail`).
    public static let ioFailed = WireError(.ioFailed)
    /// The operation was abandoned because its owner is stopping.
    public static let cancelled = WireError(.cancelled)
    /// The connection's descriptor was closed or reused by someone else: a program that closes
    /// every descriptor it did not open (daemons, closefrom) took the agent's socket.
    public static let descriptorLost = WireError(.descriptorLost)
    /// libcrypto could not compute an HMAC (the program shut OpenSSL down, or memory ran out).
    public static let cryptoFailed = WireError(.cryptoFailed)
    /// TLS failed: the collector's certificate did not verify, the collector refused this side's,
    /// or the peer does not speak TLS (`detail` says which, in OpenSSL's words).
    public static let tlsFailed = WireError(.tlsFailed)

    /// The same case with a specific explanation.
    package func with(_ detail: String) -> WireError { WireError(code, detail) }

    static func remote(_ error: Wire.Error) -> WireError {
        WireError(.remoteError, "\(error.code) (\(error.code.rawValue)): \(error.message)")
    }

    /// The code to put in an Error frame telling the peer about this error.
    public var errorCode: Wire.ErrorCode {
        switch code {
        case .unsupportedVersion, .noCommonVersion: return .unsupportedVersion
        case .authenticationFailed: return .authenticationFailed
        case .frameTooLarge, .bodyTooLargeAfterInflate, .inflateRatioExceeded: return .frameTooLarge
        case .badMagic, .reservedFlags, .unknownKind, .corruptCompressedBody, .malformedMessage,
             .truncated:
            return .malformedMessage
        case .unexpectedMessage: return .protocolViolation
        case .timedOut: return .handshakeTimeout
        case .remoteError, .nameResolutionFailed, .connectFailed, .connectionClosed, .ioFailed,
             .cancelled, .descriptorLost, .cryptoFailed, .tlsFailed:
            return .internal
        }
    }
}

