import Foundation

/// Certificates made by `openssl` for one test, in a scratch directory: a CA; the collector's
/// certificate for 127.0.0.1 and localhost; client certificates for the hosts asked for; and a
/// second CA with a client certificate of its own, which the first CA's holders must refuse.
public struct TestCertificates: Sendable {
    /// A certificate and its private key, as PEM files.
    public struct Pair: Sendable {
        public let certificate: String
        public let key: String
    }

    public let directory: TemporaryDirectory
    /// The CA that signed `server` and every client certificate of `client(_:)`.
    public let certificateAuthority: String
    /// The collector's: subject alternative names DNS:localhost and IP:127.0.0.1.
    public let server: Pair
    /// A CA that signed nothing the collector or agents trust.
    public let otherCertificateAuthority: String
    /// A client certificate for host "stranger", signed by `otherCertificateAuthority`.
    public let strangerClient: Pair
    private let clients: [String: Pair]

    /// The client certificate for `host` (DNS subject alternative name and common name).
    public func client(_ host: String) -> Pair {
        guard let pair = clients[host] else { preconditionFailure("no client certificate was made for \(host)") }
        return pair
    }

    public static func make(clientHosts: [String]) async throws -> TestCertificates {
        let directory = try TemporaryDirectory()
        do {
            let maker = Maker(directory: directory)
            let authority = try await maker.certificateAuthority("ca", name: "Leakwatch test CA")
            let other = try await maker.certificateAuthority("other-ca", name: "Some other CA")
            let server = try await maker.certificate(
                "server", name: "localhost", signedBy: "ca",
                extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
            var clients: [String: Pair] = [:]
            for host in clientHosts {
                clients[host] = try await maker.certificate(
                    "client-\(host)", name: host, signedBy: "ca",
                    extensions: "subjectAltName=DNS:\(host)\nextendedKeyUsage=clientAuth\n")
            }
            let stranger = try await maker.certificate(
                "client-stranger", name: "stranger", signedBy: "other-ca",
                extensions: "subjectAltName=DNS:stranger\nextendedKeyUsage=clientAuth\n")
            return TestCertificates(directory: directory, certificateAuthority: authority, server: server,
                                    otherCertificateAuthority: other, strangerClient: stranger, clients: clients)
        } catch {
            directory.remove()
            throw error
        }
    }

    public func remove() { directory.remove() }

    private struct Maker {
        let directory: TemporaryDirectory

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        func openssl(_ arguments: [String]) async throws {
            let result = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/openssl"), arguments, timeoutSeconds: 60)
            guard result.status == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")) failed: \(result.summary)") }
        }

        func certificateAuthority(_ file: String, name: String) async throws -> String {
            try await openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", path("\(file).key"), "-out", path("\(file).pem"), "-days", "2", "-subj", "/CN=\(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
            return path("\(file).pem")
        }

        func certificate(_ file: String, name: String, signedBy authority: String, extensions: String) async throws -> Pair {
            try await openssl([
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", path("\(file).key"), "-out", path("\(file).csr"), "-subj", "/CN=\(name)",
            ])
            try extensions.write(toFile: path("\(file).ext"), atomically: true, encoding: .utf8)
            try await openssl([
                "x509", "-req", "-in", path("\(file).csr"), "-CA", path("\(authority).pem"), "-CAkey", path("\(authority).key"),
                "-CAcreateserial", "-out", path("\(file).pem"), "-days", "2", "-extfile", path("\(file).ext"),
            ])
            return Pair(certificate: path("\(file).pem"), key: path("\(file).key"))
        }
    }
}
