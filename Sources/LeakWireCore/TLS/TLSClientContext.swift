import CSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The connecting side of TLS 1.3 (the agent, collector-cli): the CA the collector's certificate
/// must chain to, and for mutual TLS this side's certificate and key. Built once from its files, so
/// that an unreadable or mismatched file is a configuration error, not a connection failure; every
/// connection then makes a `TLSClientSession` from it.
///
/// OpenSSL runs in a library context of its own, not the process's default one: the agent lives
/// inside programs that use OpenSSL themselves, and a first use of the default context on the
/// agent's thread raced the program's own (CCrypto/shim.h). Sendable because an SSL_CTX, once
/// configured, is only read by SSL_new, which OpenSSL allows from any thread.
public final class TLSClientContext: @unchecked Sendable {
    /// Where the PEM files are.
    public struct Files: Sendable, Equatable {
        /// The CA that signed the collector's certificate.
        public var certificateAuthorityFile: String
        /// This side's certificate (and intermediates) for mutual TLS; nil: none is presented.
        public var certificateFile: String?
        /// The key of `certificateFile`.
        public var privateKeyFile: String?

        public init(certificateAuthorityFile: String, certificateFile: String? = nil, privateKeyFile: String? = nil) {
            self.certificateAuthorityFile = certificateAuthorityFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }
    }

    /// A file that cannot be used, which one, and OpenSSL's reason.
    public struct FileError: Error, CustomStringConvertible, Sendable {
        public enum Role: Sendable { case certificateAuthority, certificate, privateKey }
        public let role: Role
        public let path: String
        public let reason: String

        public var description: String { "\(path): \(reason)" }
    }

    public let files: Files
    let context: OpaquePointer

    /// The one library context of the process's Leakwatch TLS, never freed: a thread that used it
    /// runs OpenSSL's per-thread cleanup when it exits, which reads the context, and freeing it
    /// first crashed that thread (OpenSSL 3.0, a SIGSEGV in CRYPTO_THREAD_read_lock at thread exit
    /// in 3 of 3 runs of the TLS tests).
    ///
    /// nil when libssl cannot be loaded (`leakwatch_ssl_load`): it is loaded here, for the first
    /// context, so that a process without TLS never maps it.
    nonisolated(unsafe) private static let library: OpaquePointer? = { // OpenSSL locks it itself
        guard leakwatch_ssl_load() == 1 else { return nil }
        // OpenSSL's first use registers an atexit handler that frees its global tables. A process
        // that exits while the agent's thread is inside OpenSSL then crashes that thread: bash's
        // command-substitution children, forked with the agent and gone within milliseconds, did
        // in 2 of 78 runs of pyenv's python3 shim (a SIGSEGV in CRYPTO_THREAD_read_lock under
        // SSL_CTX_new_ex, OPENSSL_cleanup on the main thread). Without it the tables live until the
        // process does. A program that initialised OpenSSL before the agent keeps its handler.
        _ = leakwatch_ssl_OPENSSL_init_ssl(UInt64(OPENSSL_INIT_NO_ATEXIT), nil)
        return OSSL_LIB_CTX_new()
    }()

    public init(files: Files) throws(FileError) {
        guard let library = Self.library else {
            throw FileError(role: .certificateAuthority, path: files.certificateAuthorityFile,
                            reason: "OpenSSL could not start: \(String(cString: leakwatch_ssl_load_error()))")
        }
        guard let context = leakwatch_ssl_SSL_CTX_new_ex(library, nil, leakwatch_ssl_TLS_client_method()) else {
            throw FileError(role: .certificateAuthority, path: files.certificateAuthorityFile, reason: "OpenSSL could not start: \(TLSErrors.takeReason())")
        }
        self.files = files
        self.context = context
        _ = leakwatch_tls_require_version_1_3(context)
        leakwatch_ssl_SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        try load(files)
    }

    deinit { leakwatch_ssl_SSL_CTX_free(context) }

    private func load(_ files: Files) throws(FileError) {
        for (role, path) in [(FileError.Role.certificateAuthority, files.certificateAuthorityFile),
                             (.certificate, files.certificateFile), (.privateKey, files.privateKeyFile)] {
            // OpenSSL says only "system lib" for a file it cannot open.
            if let path, access(path, R_OK) != 0 {
                throw FileError(role: role, path: path, reason: "cannot be read: \(String(cString: strerror(errno)))")
            }
        }
        ERR_clear_error()
        guard leakwatch_ssl_SSL_CTX_load_verify_locations(context, files.certificateAuthorityFile, nil) == 1 else {
            throw FileError(role: .certificateAuthority, path: files.certificateAuthorityFile,
                            reason: "not a readable PEM file of CA certificates (\(TLSErrors.takeReason()))")
        }
        switch (files.certificateFile, files.privateKeyFile) {
        case (nil, nil):
            return
        case (let certificate?, nil):
            throw FileError(role: .privateKey, path: "", reason: "the client certificate \(certificate) needs its private key")
        case (nil, let key?):
            throw FileError(role: .certificate, path: "", reason: "the private key \(key) needs its client certificate")
        case (let certificate?, let key?):
            guard leakwatch_ssl_SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw FileError(role: .certificate, path: certificate,
                                reason: "not a readable PEM certificate (\(TLSErrors.takeReason()))")
            }
            guard leakwatch_ssl_SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                let (code, reason) = TLSErrors.takeError()
                throw FileError(role: .privateKey, path: key, reason: leakwatch_tls_error_is_key_mismatch(code) != 0
                    ? "not the key of the certificate \(certificate) (\(reason))"
                    : "not a readable, unencrypted PEM private key (\(reason))")
            }
            guard leakwatch_ssl_SSL_CTX_check_private_key(context) == 1 else {
                throw FileError(role: .privateKey, path: key,
                                reason: "not the key of the certificate \(certificate) (\(TLSErrors.takeReason()))")
            }
        }
    }
}

/// OpenSSL's thread-local error queue, read into words.
enum TLSErrors {
    /// The reason of the queue's latest error ("certificate verify failed"), and the queue emptied.
    static func takeReason() -> String { takeError().reason }

    /// The queue's latest error, its code and its reason, and the queue emptied.
    static func takeError() -> (code: UInt, reason: String) {
        let code = ERR_peek_last_error()
        ERR_clear_error()
        guard code != 0 else { return (0, "no reason given") }
        if let reason = ERR_reason_error_string(code) { return (code, String(cString: reason)) }
        return (code, "OpenSSL error \(code)")
    }
}
