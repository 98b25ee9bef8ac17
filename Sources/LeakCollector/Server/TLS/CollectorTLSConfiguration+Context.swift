import NIOSSL

extension CollectorTLSConfiguration {
    /// The server side of TLS 1.3 as configured: built once at start, so that an unreadable or
    /// mismatched file stops the collector with a `ConfigurationError` naming it.
    func makeServerContext() throws -> NIOSSLContext {
        let chain = try Self.certificates(in: certificateChainFile, option: "--tls-cert", what: "certificate")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw ConfigurationError("cannot read the TLS private key \(privateKeyFile) (--tls-key): \(error); expected an unencrypted PEM key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv13
        if let clientCAFile {
            let authorities = try Self.certificates(in: clientCAFile, option: "--tls-client-ca", what: "client CA certificate")
            configuration.trustRoots = .certificates(authorities)
            // A client certificate names a host, not the address it connects from.
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(
                "the TLS certificate \(certificateChainFile) and key \(privateKeyFile) cannot be used together: \(error); check that the key is the certificate's")
        }
    }

    private static func certificates(in path: String, option: String, what: String) throws -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw ConfigurationError("cannot read the TLS \(what) \(path) (\(option)): \(error); expected a PEM file")
        }
        guard !certificates.isEmpty else {
            throw ConfigurationError("the TLS \(what) file \(path) (\(option)) holds no PEM certificate")
        }
        return certificates
    }
}
