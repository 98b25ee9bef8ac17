import CCrypto

/// HMAC-SHA256 from OpenSSL's libcrypto: the one implementation agent and collector use.
///
/// `HMAC()` runs in libcrypto's default library context, whose first use loads the system's
/// openssl.cnf; a host program that later initialises OpenSSL with settings of its own
/// (OPENSSL_init_crypto with a config file or appname) finds them ignored, as with any other
/// library of the process that uses OpenSSL first. A private OSSL_LIB_CTX does not avoid it: on
/// OpenSSL 3.0 EVP_Q_mac in one still loads openssl.cnf (seen with strace, 3.0.19). That first use
/// also makes 2 MB of libcrypto resident (0.9 MB PSS, 0.15 MB private; loading it alone, 1.5 MB).
enum HMACSHA256 {
    static let byteCount = 32

    /// nil when libcrypto refuses (after the program called OPENSSL_cleanup, or out of memory).
    static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8]? {
        guard let keyLength = Int32(exactly: key.count) else { return nil }
        var code = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // Storage even for an empty key (no token configured): libcrypto is never handed NULL.
        let keyStorage = key.isEmpty ? [0] : key
        let result = keyStorage.withUnsafeBytes { keyBytes in
            message.withUnsafeBufferPointer { messageBytes in
                code.withUnsafeMutableBufferPointer { out in
                    HMAC(EVP_sha256(), keyBytes.baseAddress, keyLength, messageBytes.baseAddress, messageBytes.count,
                         out.baseAddress, &length)
                }
            }
        }
        guard result != nil, length == byteCount else { return nil }
        return Array(code.prefix(byteCount))
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
