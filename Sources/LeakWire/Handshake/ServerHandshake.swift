import Foundation
import LeakWireCore

/// The collector side of the handshake, with no I/O (the collector drives it from NIO).
///
/// ```
///   .awaitingHello ──Hello──▶ send Challenge ──▶ .awaitingAuthenticate
///        (no common version, a Hello breaking `HelloValidation` at `configuration.nowUnixNanos`,
///         or under mutual TLS an agent Hello naming another host than its certificate ──▶ .reject)
///   .awaitingAuthenticate ──Authenticate──▶ proof checked by `configuration.authentication`:
///        .token(secret): valid proof ──▶ .authenticated(hello, version); else ──▶ .reject
///        .acceptAnyProof:            any proof ──▶ .authenticated(hello, version)
///        then the owner sends welcome(lastAcknowledgedSequence:) from its storage
///   anything else ──▶ .reject(error): send error.errorMessage() and close
/// ```
///
/// Without authentication the messages and their order stay the same, so peers need no setting
/// of their own; only the proof goes unchecked.
///
/// Under mutual TLS the transport has verified the peer's certificate before Hello arrives; its
/// owner passes the certificate's name to `certifyPeer(hostName:)`, and an agent may then report
/// only as that host, so that one host's key cannot speak for another. The token proof is still
/// checked when configured: both can be on.
public struct ServerHandshake: Sendable {
    /// How the collector judges the proof in Authenticate.
    public enum Authentication: Sendable {
        /// The proof must be the HMAC, under this shared secret, of the nonce, the chosen
        /// version and the peer's Hello.
        case token([UInt8])
        /// Any proof is accepted: a trusted network or a demo only (`--insecure-no-auth`).
        /// Hello is still checked and Authenticate is still required.
        case acceptAnyProof
    }

    public struct Configuration: Sendable {
        /// How the peer's proof is checked.
        public var authentication: Authentication
        /// Versions this collector speaks. Default: `ProtocolVersion.supported`.
        public var supportedVersions: [UInt32]
        public var collectorVersion: String
        /// Whether the transport must certify the peer's host name (mutual TLS): an agent's Hello is
        /// then accepted only under the name `certifyPeer(hostName:)` was given. Default false.
        public var requiresCertifiedHostName: Bool
        /// The bounds of an agent Hello's process start and sampling mean (`HelloValidation`): the
        /// collector's snapshot limits, so a process and its snapshots keep one clock rule.
        public var limits: SnapshotLimits
        /// The collector's clock, unix nanoseconds: what a Hello's process start may not be far
        /// ahead of. Injected so that a test or the fuzzer can fix it.
        public var nowUnixNanos: @Sendable () -> Int64

        public init(authentication: Authentication, supportedVersions: [UInt32] = ProtocolVersion.supported,
                    collectorVersion: String = "", requiresCertifiedHostName: Bool = false,
                    limits: SnapshotLimits = .default, nowUnixNanos: @escaping @Sendable () -> Int64 = ServerHandshake.wallClockUnixNanos) {
            self.authentication = authentication
            self.supportedVersions = supportedVersions
            self.collectorVersion = collectorVersion
            self.requiresCertifiedHostName = requiresCertifiedHostName
            self.limits = limits
            self.nowUnixNanos = nowUnixNanos
        }

        /// Peers must prove they know `token`.
        public init(token: [UInt8], supportedVersions: [UInt32] = ProtocolVersion.supported,
                    collectorVersion: String = "") {
            self.init(authentication: .token(token), supportedVersions: supportedVersions,
                      collectorVersion: collectorVersion)
        }
    }

    /// The system's wall clock, unix nanoseconds: the default `Configuration.nowUnixNanos`.
    @Sendable public static func wallClockUnixNanos() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    public enum Action: Sendable {
        case send(WireMessage)
        /// Proof verified: the peer is who Hello says. Reply with `welcome(...)`.
        case authenticated(hello: Leakwatch_V1_Hello, version: UInt32)
        /// Send `error.errorMessage()` as an Error frame, then close the connection.
        case reject(WireError)
    }

    enum State: Sendable {
        case awaitingHello
        case awaitingAuthenticate(hello: Leakwatch_V1_Hello, version: UInt32)
        case authenticated(hello: Leakwatch_V1_Hello, version: UInt32)
        case failed
    }

    public let configuration: Configuration
    private let nonce: [UInt8]
    private(set) var state: State = .awaitingHello
    /// The host name the peer's verified certificate carries (nil: none, or no TLS).
    public private(set) var certifiedHostName: String?

    /// `nonce` defaults to fresh random bytes; tests pass a fixed one.
    public init(configuration: Configuration, nonce: [UInt8] = WireAuthentication.makeNonce()) {
        precondition(nonce.count == WireAuthentication.nonceByteCount, "nonce must be 32 bytes")
        self.configuration = configuration
        self.nonce = nonce
    }

    /// The authenticated peer's Hello, once the proof has verified.
    public var peer: Leakwatch_V1_Hello? {
        if case .authenticated(let hello, _) = state { return hello }
        return nil
    }

    /// The host name the transport verified for this peer (a mutual-TLS client certificate's DNS
    /// name, else its common name; nil when the certificate names none). Call before Hello arrives.
    public mutating func certifyPeer(hostName: String?) {
        certifiedHostName = hostName
    }

    public mutating func receive(_ message: WireMessage) -> Action {
        let action = step(message)
        if case .reject = action { state = .failed }
        return action
    }

    private mutating func step(_ message: WireMessage) -> Action {
        switch (state, message) {
        case (.awaitingHello, .hello(let hello)):
            // The version first: another version's Hello may keep other rules.
            guard let version = ProtocolVersion.negotiate(offered: hello.supportedVersions,
                                                          supported: configuration.supportedVersions) else {
                return .reject(WireError.noCommonVersion.with(
                    "peer offers versions \(hello.supportedVersions), collector speaks \(configuration.supportedVersions): upgrade the older side"))
            }
            if let problem = helloProblem(hello) ?? identityProblem(with: hello) { return .reject(problem) }
            var challenge = Leakwatch_V1_Challenge()
            challenge.chosenVersion = version
            challenge.nonce = .init(nonce)
            challenge.collectorVersion = configuration.collectorVersion
            state = .awaitingAuthenticate(hello: hello, version: version)
            return .send(.challenge(challenge))
        case (.awaitingAuthenticate(let hello, let version), .authenticate(let authenticate)):
            guard accepts(proof: Array(authenticate.proof), version: version, hello: hello) else {
                return .reject(WireError.authenticationFailed.with(
                    "authentication failed for host '\(hello.hostName)': check that agent and collector use the same token"))
            }
            state = .authenticated(hello: hello, version: version)
            return .authenticated(hello: hello, version: version)
        default:
            return .reject(WireError.unexpectedMessage.with("\(message.name) is not expected during the handshake (state \(state))"))
        }
    }

    private func accepts(proof: [UInt8], version: UInt32, hello: Leakwatch_V1_Hello) -> Bool {
        switch configuration.authentication {
        case .token(let token):
            WireAuthentication.isValidProof(proof, token: token, nonce: nonce, chosenVersion: version,
                                            identity: hello.authenticationIdentity)
        case .acceptAnyProof:
            true
        }
    }

    /// The Welcome to send after `.authenticated`.
    public func welcome(lastAcknowledgedSequence: UInt64) -> WireMessage {
        var welcome = Leakwatch_V1_Welcome()
        welcome.accepted = true
        welcome.lastAcknowledgedSequence = lastAcknowledgedSequence
        if case .authenticated(_, let version) = state { welcome.version = version }
        return .welcome(welcome)
    }

    /// Under mutual TLS, an agent reports only as the host its certificate names. DNS names
    /// compare without regard to case.
    private func identityProblem(with hello: Leakwatch_V1_Hello) -> WireError? {
        guard configuration.requiresCertifiedHostName, hello.role == .agent else { return nil }
        guard let certified = certifiedHostName else {
            return WireError.authenticationFailed.with(
                "host '\(hello.hostName)' presented a client certificate that names no host (no DNS subject alternative name, no common name): issue it for the host's name")
        }
        guard certified.lowercased() == hello.hostName.lowercased() else {
            return WireError.authenticationFailed.with(
                "the client certificate is for host '\(certified)' but Hello names host '\(hello.hostName)': a host reports only under its certificate's name (set LEAKWATCH_HOST to '\(certified)', or issue a certificate for '\(hello.hostName)')")
        }
        return nil
    }

    private func helloProblem(_ hello: Leakwatch_V1_Hello) -> WireError? {
        guard hello.role == .agent || hello.role == .client else {
            return WireError.malformedMessage.with("Hello role must be AGENT (1) or CLIENT (2), got \(hello.role.rawValue)")
        }
        do {
            try HelloValidation.check(hello, receivedAtUnixNanos: configuration.nowUnixNanos(), limits: configuration.limits)
            return nil
        } catch {
            return error
        }
    }
}
