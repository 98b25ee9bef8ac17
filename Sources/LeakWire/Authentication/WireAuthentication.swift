import Crypto

/// Challenge–response authentication with a shared token that never crosses the wire.
///
/// The collector sends a fresh 32-byte nonce; the peer answers with
/// `HMAC-SHA256(token, transcript)` where the transcript binds that nonce, the chosen
/// version and the identity the peer announced in Hello (docs/PROTOCOL.md). A proof
/// recorded on one connection is useless on any other: its nonce differs.
public enum WireAuthentication {
    public static let nonceByteCount = 32
    public static let proofByteCount = 32
    /// Domain separation: these bytes start every transcript.
    public static let transcriptLabel: [UInt8] = Array("leakwatch-auth-v1".utf8)

    /// 32 bytes from the system's secure random generator.
    public static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The bytes the proof authenticates.
    public static func transcript(nonce: [UInt8], chosenVersion: UInt32, hello: Leakwatch_V1_Hello) -> [UInt8] {
        var bytes = transcriptLabel
        bytes.append(contentsOf: nonce)
        appendBigEndian(chosenVersion, to: &bytes)
        bytes.append(UInt8(truncatingIfNeeded: hello.role.rawValue))
        for field in [Array(hello.processInstanceID), Array(hello.hostName.utf8), Array(hello.serviceName.utf8)] {
            appendBigEndian(UInt32(field.count), to: &bytes)
            bytes.append(contentsOf: field)
        }
        return bytes
    }

    public static func proof(token: [UInt8], nonce: [UInt8], chosenVersion: UInt32, hello: Leakwatch_V1_Hello) -> [UInt8] {
        let key = SymmetricKey(data: token)
        let code = HMAC<SHA256>.authenticationCode(
            for: transcript(nonce: nonce, chosenVersion: chosenVersion, hello: hello), using: key)
        return Array(code)
    }

    /// Constant-time check of a proof (HMAC.isValidAuthenticationCode).
    public static func isValidProof(
        _ proof: [UInt8], token: [UInt8], nonce: [UInt8], chosenVersion: UInt32, hello: Leakwatch_V1_Hello
    ) -> Bool {
        guard proof.count == proofByteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            proof, authenticating: transcript(nonce: nonce, chosenVersion: chosenVersion, hello: hello),
            using: SymmetricKey(data: token))
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                                  UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }
}
