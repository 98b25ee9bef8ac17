import Foundation
import LeakCLI
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// collector-cli queries a collector that serves mutual TLS, on the port the agents use.
@Suite("collector-cli through TLS")
struct TLSQueryTests {
    /// A collector with mutual TLS holding one snapshot of host-a, sent through TLS with host-a's certificate.
    static func withSeededCollector(_ body: (TestCollector, TestCertificates) async throws -> Void) async throws {
        let certificates = try await TestCertificates.make(clientHosts: ["host-a", "operator"])
        defer { certificates.remove() }
        try await TestCollector.start { configuration in
            configuration.tls = CollectorTLSConfiguration(
                certificateChainFile: certificates.server.certificate, privateKeyFile: certificates.server.key,
                clientCAFile: certificates.certificateAuthority)
        }.use { running in
            let hostA = try TLSClientContext(files: .init(
                certificateAuthorityFile: certificates.certificateAuthority,
                certificateFile: certificates.client("host-a").certificate, privateKeyFile: certificates.client("host-a").key))
            try await blocking {
                let agent = try SeedAgent(port: running.port, host: "host-a", service: "api", instance: 1, pid: 1,
                                          startNanos: FleetScenario.now - FleetScenario.hour, tls: hostA)
                try agent.send(FleetScenario.bareSnapshot(sequence: 1, time: FleetScenario.now - FleetScenario.minute))
                agent.close()
            }
            try await body(running, certificates)
        }
    }

    @Test func hostsThroughMutualTLSFromFlagsOrEnvironment() async throws {
        try await Self.withSeededCollector { running, certificates in
            let operatorPair = certificates.client("operator")
            let flags = try await running.run([
                "hosts", "--format", "json", "--tls-ca", certificates.certificateAuthority,
                "--tls-cert", operatorPair.certificate, "--tls-key", operatorPair.key,
            ])
            #expect(flags.exitCode == 0, "stderr: \(flags.standardError)")
            #expect(flags.text.contains("\"host-a\""), "\(flags.text)")

            let environment = try await running.run(["hosts", "--format", "json"], context: running.context(environment: [
                "LEAKWATCH_TLS_CA": certificates.certificateAuthority,
                "LEAKWATCH_TLS_CERT": operatorPair.certificate, "LEAKWATCH_TLS_KEY": operatorPair.key,
            ]))
            #expect(environment.exitCode == 0 && environment.text == flags.text, "stderr: \(environment.standardError)")
        }
    }

    @Test func aWrongCAOrNoCertificateIsAClearError() async throws {
        try await Self.withSeededCollector { running, certificates in
            let operatorPair = certificates.client("operator")
            let wrongCA = try await running.run([
                "hosts", "--tls-ca", certificates.otherCertificateAuthority,
                "--tls-cert", operatorPair.certificate, "--tls-key", operatorPair.key,
            ])
            #expect(wrongCA.exitCode == CLIExitCode.collectorUnreachable, "\(wrongCA.standardError)")
            #expect(wrongCA.standardError.contains("did not verify (unable to get local issuer certificate)")
                        && wrongCA.standardError.contains("--tls-ca"), "\(wrongCA.standardError)")

            let noCertificate = try await running.run(["hosts", "--tls-ca", certificates.certificateAuthority])
            #expect(noCertificate.exitCode != 0 && noCertificate.standardError.contains("refused the session"),
                    "\(noCertificate.standardError)")

            let plaintext = try await running.run(["hosts"])
            #expect(plaintext.exitCode != 0, "\(plaintext.standardError)")

            let missing = try await running.run(["hosts", "--tls-ca", "/nonexistent/ca.pem"])
            #expect(missing.exitCode == CLIExitCode.badArguments && missing.standardError.contains("--tls-ca /nonexistent/ca.pem"),
                    "\(missing.standardError)")
        }
    }
}
