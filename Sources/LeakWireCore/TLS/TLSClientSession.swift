import CSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection's TLS, with no I/O: ciphertext goes in and comes out through memory buffers, and
/// `BlockingConnection` moves it over its socket with the same sends, receives, timeouts and
/// descriptor checks as plaintext (OpenSSL's own socket I/O would also raise SIGPIPE in the program).
///
/// ```
///  init ──▶ handshaking ─ advanceHandshake() ─▶ false: send takeCiphertext(), receive(ciphertext:), again
///               │                               true: established ─▶ write(plaintext:) / readPlaintext()
///               └─ bad certificate, an alert, not TLS ──▶ throws WireError.tlsFailed
/// ```
///
/// The collector's certificate must chain to the context's CA and name `serverName` (a DNS name
/// or an IP address, as the collector was addressed). Not thread-safe: one thread owns a session.
final class TLSClientSession {
    private let connection: OpaquePointer
    /// Ciphertext received, for OpenSSL to read.
    private let inbound: OpaquePointer
    /// Ciphertext OpenSSL wrote, to send.
    private let outbound: OpaquePointer
    private let serverName: String
    /// Where SSL_read decrypts to: one TLS record's worth.
    private var record = [UInt8](repeating: 0, count: 16 << 10)

    init(context: TLSClientContext, serverName: String) throws(WireError) {
        guard let connection = leakwatch_ssl_SSL_new(context.context),
              let inbound = BIO_new(BIO_s_mem()), let outbound = BIO_new(BIO_s_mem())
        else {
            throw WireError.tlsFailed.with("OpenSSL could not make a TLS session: \(TLSErrors.takeReason())")
        }
        leakwatch_tls_retry_when_empty(inbound)
        leakwatch_ssl_SSL_set_bio(connection, inbound, outbound)  // the session owns both now
        leakwatch_ssl_SSL_set_connect_state(connection)
        self.connection = connection
        self.inbound = inbound
        self.outbound = outbound
        self.serverName = serverName
        guard Self.expect(serverName, in: connection) else {
            throw WireError.tlsFailed.with("cannot check the collector's certificate against '\(serverName)': \(TLSErrors.takeReason())")
        }
    }

    deinit { leakwatch_ssl_SSL_free(connection) }

    /// An address is checked against the certificate's IP addresses; a name against its DNS names,
    /// and sent as the server name (SNI), which may not be an address.
    private static func expect(_ serverName: String, in connection: OpaquePointer) -> Bool {
        var address = in6_addr()
        let isAddress = inet_pton(AF_INET, serverName, &address) == 1 || inet_pton(AF_INET6, serverName, &address) == 1
        if isAddress {
            return X509_VERIFY_PARAM_set1_ip_asc(leakwatch_ssl_SSL_get0_param(connection), serverName) == 1
        }
        return leakwatch_ssl_SSL_set1_host(connection, serverName) == 1 && leakwatch_tls_set_server_name(connection, serverName) == 1
    }

    /// One step of the handshake with the ciphertext received so far: true once established;
    /// false when it needs more from the collector (send `takeCiphertext()` first).
    func advanceHandshake() throws(WireError) -> Bool {
        ERR_clear_error()
        let result = leakwatch_ssl_SSL_connect(connection)
        if result == 1 { return true }
        if leakwatch_ssl_SSL_get_error(connection, result) == SSL_ERROR_WANT_READ { return false }
        throw failure(during: "handshake")
    }

    /// Ciphertext from the collector.
    func receive(ciphertext: UnsafeRawBufferPointer) throws(WireError) {
        guard !ciphertext.isEmpty else { return }
        guard BIO_write(inbound, ciphertext.baseAddress, Int32(ciphertext.count)) == Int32(ciphertext.count) else {
            throw WireError.tlsFailed.with("OpenSSL could not buffer \(ciphertext.count) received bytes")
        }
    }

    /// Plaintext decrypted from what was received, appended to `plaintext`; false when no complete
    /// record is left (receive more), or after the collector's close_notify (the end of the TCP
    /// stream follows, and with it the connection's usual end).
    func readPlaintext(into plaintext: inout [UInt8]) throws(WireError) -> Bool {
        ERR_clear_error()
        let count = record.withUnsafeMutableBytes { leakwatch_ssl_SSL_read(connection, $0.baseAddress, Int32($0.count)) }
        if count > 0 {
            plaintext += record[0..<Int(count)]
            return true
        }
        let kind = leakwatch_ssl_SSL_get_error(connection, count)
        if kind == SSL_ERROR_WANT_READ || kind == SSL_ERROR_ZERO_RETURN { return false }
        throw failure(during: "read")
    }

    /// Encrypts `plaintext` into the outbound ciphertext (memory: it always fits).
    func write(plaintext: [UInt8]) throws(WireError) {
        guard !plaintext.isEmpty else { return }
        ERR_clear_error()
        let written = plaintext.withUnsafeBytes { leakwatch_ssl_SSL_write(connection, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(plaintext.count) else { throw failure(during: "write") }
    }

    /// Queues TLS's close_notify, for a peer that should tell a clean end from a cut connection.
    func shutdown() {
        ERR_clear_error()
        _ = leakwatch_ssl_SSL_shutdown(connection)
        ERR_clear_error()
    }

    /// Everything OpenSSL has written for the collector since the last call.
    func takeCiphertext() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(outbound))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(outbound, $0.baseAddress, Int32($0.count)) }
        return Array(bytes.prefix(max(0, Int(read))))
    }

    /// What went wrong, in words an operator can act on: a certificate that did not verify names
    /// the check that failed; an alert from the collector says that it refused this side.
    private func failure(during step: String) -> WireError {
        let verification = leakwatch_ssl_SSL_get_verify_result(connection)
        if verification != X509_V_OK {
            ERR_clear_error()
            let reason = String(cString: X509_verify_cert_error_string(verification))
            return WireError.tlsFailed.with(
                "TLS \(step) failed: the collector's certificate did not verify (\(reason)): it must be signed by the configured CA and name '\(serverName)'")
        }
        let (code, reason) = TLSErrors.takeError()
        if leakwatch_tls_error_is_alert(code) != 0 {
            return WireError.tlsFailed.with(
                "TLS \(step) failed: the collector refused the session (\(reason)); with mutual TLS it needs a client certificate signed by its client CA")
        }
        return WireError.tlsFailed.with("TLS \(step) failed: \(reason) (is the collector at this address serving TLS?)")
    }
}
