import Foundation
import LeakAgent
import LeakTestSupport
import Testing

/// LEAKWATCH_TLS_CA, LEAKWATCH_TLS_CERT and LEAKWATCH_TLS_KEY: read with a collector, their files
/// loaded at once, and a bad one refused with the agent's one configuration line.
@Suite("Agent TLS settings")
struct AgentTLSConfigurationTests {
    static func refusal(_ environment: [String: String]) -> AgentConfigurationError? {
        do {
            _ = try AgentConfiguration.fromEnvironment(environment.merging(["LEAKWATCH_COLLECTOR": "127.0.0.1:7070"]) { $1 })
            return nil
        } catch {
            return error
        }
    }

    @Test func goodFilesMakeATLSConfiguration() async throws {
        let certificates = try await TestCertificates.make(clientHosts: ["web-1"])
        defer { certificates.remove() }
        let plain = try AgentConfiguration.fromEnvironment(["LEAKWATCH_COLLECTOR": "127.0.0.1:7070"])
        #expect(plain.tls == nil, "no TLS variable: plaintext")
        let server = try AgentConfiguration.fromEnvironment([
            "LEAKWATCH_COLLECTOR": "127.0.0.1:7070", "LEAKWATCH_TLS_CA": certificates.certificateAuthority,
        ])
        #expect(server.tls?.files.certificateAuthorityFile == certificates.certificateAuthority)
        let mutual = try AgentConfiguration.fromEnvironment([
            "LEAKWATCH_COLLECTOR": "127.0.0.1:7070", "LEAKWATCH_TLS_CA": certificates.certificateAuthority,
            "LEAKWATCH_TLS_CERT": certificates.client("web-1").certificate, "LEAKWATCH_TLS_KEY": certificates.client("web-1").key,
        ])
        #expect(mutual.tls?.files.certificateFile == certificates.client("web-1").certificate)
        let notShipping = try AgentConfiguration.fromEnvironment(["LEAKWATCH_TLS_CA": "/nonexistent/ca.pem"])
        #expect(notShipping.tls == nil, "without a collector the TLS files are not read")
    }

    @Test func aBadSettingNamesItsVariable() async throws {
        let certificates = try await TestCertificates.make(clientHosts: ["web-1", "web-2"])
        defer { certificates.remove() }
        let missing = Self.refusal(["LEAKWATCH_TLS_CA": "/nonexistent/ca.pem"])
        #expect(missing?.setting == "LEAKWATCH_TLS_CA", "\(String(describing: missing))")
        #expect(missing?.description.contains("the agent is off") == true)

        let notPEM = Self.refusal(["LEAKWATCH_TLS_CA": "/etc/hostname"])
        #expect(notPEM?.setting == "LEAKWATCH_TLS_CA", "\(String(describing: notPEM))")

        let withoutCA = Self.refusal(["LEAKWATCH_TLS_CERT": certificates.client("web-1").certificate,
                                      "LEAKWATCH_TLS_KEY": certificates.client("web-1").key])
        #expect(withoutCA?.setting == "LEAKWATCH_TLS_CERT" && withoutCA?.expected.contains("LEAKWATCH_TLS_CA") == true,
                "\(String(describing: withoutCA))")

        let withoutKey = Self.refusal(["LEAKWATCH_TLS_CA": certificates.certificateAuthority,
                                       "LEAKWATCH_TLS_CERT": certificates.client("web-1").certificate])
        #expect(withoutKey?.setting == "LEAKWATCH_TLS_KEY", "\(String(describing: withoutKey))")

        let mismatched = Self.refusal(["LEAKWATCH_TLS_CA": certificates.certificateAuthority,
                                       "LEAKWATCH_TLS_CERT": certificates.client("web-1").certificate,
                                       "LEAKWATCH_TLS_KEY": certificates.client("web-2").key])
        #expect(mismatched?.setting == "LEAKWATCH_TLS_KEY" && mismatched?.expected.contains("not the key") == true,
                "\(String(describing: mismatched))")
    }
}
