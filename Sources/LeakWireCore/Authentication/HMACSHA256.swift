import CCrypto

/// HMAC-SHA256 (RFC 2104) over OpenSSL's low-level SHA-256: the one implementation agent and
/// collector use.
///
/// Not `HMAC()`: an EVP call runs in libcrypto's default library context, and its first use on the
/// agent's thread (loading openssl.cnf, filling the context's hash tables) raced the program's own
/// first use of OpenSSL: python3 under the agent crashed about one run in ten (CCrypto/shim.h).
/// `SHA256_Init`/`Update`/`Final` keep all their state in the caller's `SHA256_CTX`.
enum HMACSHA256 {
    static let byteCount = 32
    private static let blockByteCount = 64

    /// nil only if libcrypto's digest fails, which it does not for in-memory input.
    static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8]? {
        guard var paddedKey = key.count > blockByteCount ? sha256([key]) : key else { return nil }
        paddedKey += [UInt8](repeating: 0, count: blockByteCount - paddedKey.count)
        guard let inner = sha256([paddedKey.map { $0 ^ 0x36 }, message]) else { return nil }
        return sha256([paddedKey.map { $0 ^ 0x5c }, inner])
    }

    /// SHA-256 of the parts, one after the other.
    private static func sha256(_ parts: [[UInt8]]) -> [UInt8]? {
        var context = SHA256_CTX()
        guard SHA256_Init(&context) == 1 else { return nil }
        for part in parts {
            let updated = part.withUnsafeBytes { SHA256_Update(&context, $0.baseAddress, $0.count) }
            guard updated == 1 else { return nil }
        }
        var digest = [UInt8](repeating: 0, count: byteCount)
        guard SHA256_Final(&digest, &context) == 1 else { return nil }
        return digest
    }

    /// Compares in time that depends on the length only (CRYPTO_memcmp), so a forged proof learns
    /// nothing from how long the check took.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        return a.withUnsafeBytes { left in
            b.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, left.count) == 0 }
        }
    }
}
