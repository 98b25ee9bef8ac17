/// The peer side of the handshake (agent shipper and collector-cli), with no I/O.
///
/// ```
///   start() ──Hello──▶ .awaitingChallenge ──Challenge/──Authenticate──▶
///   .awaitingWelcome ──Welcome──▶ .established
///   any state ──Error──▶ throws remoteError        wrong message ──▶ throws unexpectedMessage
/// ```
public struct ClientHandshake: Sendable {
    public enum Action: Sendable {
        /// Send this message and wait for the next one.
        case send(Wire.Authenticate)
        /// The connection is ready: Welcome carries the last acknowledged sequence.
        case established(Wire.Welcome)
    }

    enum State: Sendable {
        case idle
        case awaitingChallenge
        case awaitingWelcome(version: UInt32)
        case established(version: UInt32)
        case failed
    }

    public let hello: Wire.Hello
    private let token: [UInt8]
    private(set) var state: State = .idle

    /// `hello.supportedVersions` is filled with `ProtocolVersion.supported` if empty.
    public init(hello: Wire.Hello, token: [UInt8]) {
        var hello = hello
        if hello.supportedVersions.isEmpty { hello.supportedVersions = ProtocolVersion.supported }
        self.hello = hello
        self.token = token
    }

    /// The negotiated version once the collector has chosen one.
    public var negotiatedVersion: UInt32? {
        switch state {
        case .awaitingWelcome(let version), .established(let version): version
        default: nil
        }
    }

    public var isEstablished: Bool {
        if case .established = state { return true }
        return false
    }

    /// The first message to send.
    public mutating func start() -> Wire.Hello {
        precondition({ if case .idle = state { true } else { false } }(), "handshake started twice")
        state = .awaitingChallenge
        return hello
    }

    public mutating func receive(_ message: Wire.CollectorMessage) throws(WireError) -> Action {
        do {
            return try step(message)
        } catch {
            state = .failed
            throw error
        }
    }

    private mutating func step(_ message: Wire.CollectorMessage) throws(WireError) -> Action {
        if case .error(let error) = message { throw WireError.remote(error) }
        switch (state, message) {
        case (.awaitingChallenge, .challenge(let challenge)):
            guard hello.supportedVersions.contains(challenge.chosenVersion) else {
                throw WireError.noCommonVersion.with(
                    "collector chose version \(challenge.chosenVersion), this peer offered \(hello.supportedVersions)")
            }
            guard challenge.nonce.count == WireAuthentication.nonceByteCount else {
                throw WireError.malformedMessage.with(
                    "challenge nonce is \(challenge.nonce.count) bytes, expected \(WireAuthentication.nonceByteCount)")
            }
            guard let proof = WireAuthentication.proof(token: token, nonce: challenge.nonce,
                                                       chosenVersion: challenge.chosenVersion,
                                                       identity: hello.authenticationIdentity) else {
                throw WireError.cryptoFailed.with(
                    "libcrypto could not compute HMAC-SHA256 for the proof (has the program called OPENSSL_cleanup?)")
            }
            state = .awaitingWelcome(version: challenge.chosenVersion)
            return .send(Wire.Authenticate(proof: proof))
        case (.awaitingWelcome(let version), .welcome(let welcome)):
            guard welcome.accepted else {
                throw WireError.authenticationFailed.with("collector answered Welcome with accepted = false")
            }
            state = .established(version: version)
            return .established(welcome)
        default:
            throw WireError.unexpectedMessage.with("\(message.name) is not expected during the handshake (state \(state))")
        }
    }
}
