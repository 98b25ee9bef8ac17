/// Challenge–response authentication with a shared token that never crosses the wire.
///
/// The collector sends a fresh 32-byte nonce; the peer answers with
/// `HMAC-SHA256(token, transcript)` where the transcript binds that nonce, the chosen
/// version and the identity the peer announced in Hello (docs/PROTOCOL.md). A proof
/// recorded on one connection is useless on any other: its nonce differs.
public enum WireAuthentication {
    public static let nonceByteCount = 32
    public static let proofByteCount = HMACSHA256.byteCount
    /// Domain separation: these bytes start every transcript.
    public static let transcriptLabel: [UInt8] = Array("leakwatch-auth-v1".utf8)

    /// The fields of Hello the transcript binds, exactly as sent.
    public struct Identity: Sendable {
        public var role: Int32
        public var processInstanceID: [UInt8]
        public var hostName: String
        public var serviceName: String

        public init(role: Int32, processInstanceID: [UInt8], hostName: String, serviceName: String) {
            self.role = role
            self.processInstanceID = processInstanceID
            self.hostName = hostName
            self.serviceName = serviceName
        }
    }

    /// 32 bytes from the system's secure random generator.
    public static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The bytes the proof authenticates.
    public static func transcript(nonce: [UInt8], chosenVersion: UInt32, identity: Identity) -> [UInt8] {
        var bytes = transcriptLabel
        bytes.append(contentsOf: nonce)
        appendBigEndian(chosenVersion, to: &bytes)
        bytes.append(UInt8(truncatingIfNeeded: identity.role))
        for field in [identity.processInstanceID, Array(identity.hostName.utf8), Array(identity.serviceName.utf8)] {
            appendBigEndian(UInt32(truncatingIfNeeded: field.count), to: &bytes)
            bytes.append(contentsOf: field)
        }
        return bytes
    }

    /// The proof, or nil when libcrypto cannot compute an HMAC (see `HMACSHA256`).
    public static func proof(token: [UInt8], nonce: [UInt8], chosenVersion: UInt32, identity: Identity) -> [UInt8]? {
        HMACSHA256.authenticationCode(
            key: token, message: transcript(nonce: nonce, chosenVersion: chosenVersion, identity: identity))
    }

    /// Whether `proof` is the proof for this token, nonce, version and identity (compared in
    /// constant time).
    public static func isValidProof(
        _ proof: [UInt8], token: [UInt8], nonce: [UInt8], chosenVersion: UInt32, identity: Identity
    ) -> Bool {
        guard proof.count == proofByteCount,
              let expected = self.proof(token: token, nonce: nonce, chosenVersion: chosenVersion, identity: identity)
        else { return false }
        return HMACSHA256.constantTimeEquals(proof, expected)
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                                  UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }
}

extension Wire.Hello {
    /// What the authentication transcript binds of this Hello.
    public var authenticationIdentity: WireAuthentication.Identity {
        .init(role: role.rawValue, processInstanceID: processInstanceID, hostName: hostName, serviceName: serviceName)
    }
}
