/// TLS for the collector's one port: agents and collector-cli speak the same frames inside TLS 1.3.
///
/// With `clientCAFile` the TLS is mutual: every peer must present a certificate that CA signed, and
/// an agent's host name is the one its certificate carries (a DNS subject alternative name, else the
/// common name), so a host cannot report as another. docs/OPERATIONS.md says how to make the files.
public struct CollectorTLSConfiguration: Sendable, Equatable {
    /// PEM: the collector's certificate, then any intermediates (`--tls-cert`, `tlsCertificateFile`).
    public var certificateChainFile: String
    /// PEM: the certificate's private key (`--tls-key`, `tlsKeyFile`).
    public var privateKeyFile: String
    /// PEM: the CA that signs the peers' client certificates (`--tls-client-ca`, `tlsClientCAFile`);
    /// nil: peers present none, and prove themselves with the token.
    public var clientCAFile: String?

    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
    }

    /// Whether peers are identified by their certificates.
    public var isMutual: Bool { clientCAFile != nil }
}
