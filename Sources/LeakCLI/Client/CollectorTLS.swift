import LeakWire

/// TLS towards the collector, the agent's way (OpenSSL through LeakWire's blocking connection):
/// `--tls-ca` (else LEAKWATCH_TLS_CA) turns it on, `--tls-cert` and `--tls-key` (else
/// LEAKWATCH_TLS_CERT and LEAKWATCH_TLS_KEY) add a client certificate for mutual TLS.
public enum CollectorTLS {
    public static let certificateAuthorityEnvironmentVariable = "LEAKWATCH_TLS_CA"
    public static let certificateEnvironmentVariable = "LEAKWATCH_TLS_CERT"
    public static let privateKeyEnvironmentVariable = "LEAKWATCH_TLS_KEY"

    /// The options over the environment; nil when neither names a CA (plaintext).
    public static func resolve(
        certificateAuthority: String?, certificate: String?, privateKey: String?, context: CLIContext
    ) throws -> TLSClientContext? {
        func setting(_ option: String?, _ variable: String) -> String? {
            let value = option ?? context.environment[variable]
            guard let value, !value.isEmpty else { return nil }
            return value.hasPrefix("/") ? value : context.currentDirectory + "/" + value
        }
        let files = (authority: setting(certificateAuthority, certificateAuthorityEnvironmentVariable),
                     certificate: setting(certificate, certificateEnvironmentVariable),
                     key: setting(privateKey, privateKeyEnvironmentVariable))
        guard let authority = files.authority else {
            if files.certificate != nil || files.key != nil {
                throw CLIError.badArguments.with(
                    "a client certificate needs --tls-ca FILE (or \(certificateAuthorityEnvironmentVariable)): the CA that signed the collector's certificate")
            }
            return nil
        }
        do {
            return try TLSClientContext(files: .init(certificateAuthorityFile: authority, certificateFile: files.certificate,
                                                     privateKeyFile: files.key))
        } catch {
            let option = switch error.role {
            case .certificateAuthority: "--tls-ca"
            case .certificate: "--tls-cert"
            case .privateKey: "--tls-key"
            }
            throw CLIError.badArguments.with("\(option) \(error.path): \(error.reason)")
        }
    }
}
