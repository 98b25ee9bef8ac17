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
        case send(WireMessage)
        /// The connection is ready: Welcome carries the last acknowledged sequence.
        case established(Leakwatch_V1_Welcome)
    }

    enum State: Sendable {
        case idle
        case awaitingChallenge
        case awaitingWelcome(version: UInt32)
        case established(version: UInt32)
        case failed
    }

    public let hello: Leakwatch_V1_Hello
    private let token: [UInt8]
    private(set) var state: State = .idle

    /// `hello.supportedVersions` is filled with `ProtocolVersion.supported` if empty.
    public init(hello: Leakwatch_V1_Hello, token: [UInt8]) {
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
    public mutating func start() -> WireMessage {
        precondition({ if case .idle = state { true } else { false } }(), "handshake started twice")
        state = .awaitingChallenge
        return .hello(hello)
    }

    public mutating func receive(_ message: WireMessage) throws -> Action {
        do {
            return try step(message)
        } catch {
            state = .failed
            throw error
        }
    }

    private mutating func step(_ message: WireMessage) throws -> Action {
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
            var authenticate = Leakwatch_V1_Authenticate()
            authenticate.proof = .init(WireAuthentication.proof(
                token: token, nonce: Array(challenge.nonce), chosenVersion: challenge.chosenVersion, hello: hello))
            state = .awaitingWelcome(version: challenge.chosenVersion)
            return .send(.authenticate(authenticate))
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
