import Testing
@testable import LeakWire
@testable import LeakWireCore

/// Under mutual TLS the transport names the peer before Hello, and an agent reports only as that
/// host; the token's proof is still checked.
@Suite("Handshake under mutual TLS")
struct CertifiedHostHandshakeTests {
    static let nonce = (0..<32).map { UInt8($0 * 5) }

    func server(certified hostName: String?) -> ServerHandshake {
        var server = ServerHandshake(
            configuration: .init(authentication: .token(Fixtures.token), requiresCertifiedHostName: true), nonce: Self.nonce)
        server.certifyPeer(hostName: hostName)
        return server
    }

    func hello(host: String, role: Leakwatch_V1_Role = .agent) -> WireMessage {
        var hello = Fixtures.exampleHello
        hello.hostName = host
        hello.role = role
        return .hello(hello)
    }

    @Test func anAgentNamedAsItsCertificateGetsAChallenge() {
        var server = server(certified: "web-1")
        guard case .send(.challenge) = server.receive(hello(host: "web-1")) else { Issue.record("no challenge"); return }
        var differentCase = self.server(certified: "Web-1.Example.com")
        guard case .send(.challenge) = differentCase.receive(hello(host: "web-1.example.com")) else {
            Issue.record("DNS names compare without case"); return
        }
    }

    @Test func anAgentNamingAnotherHostIsRefusedNamingBoth() {
        var server = server(certified: "web-1")
        guard case .reject(let error) = server.receive(hello(host: "web-2")) else { Issue.record("accepted"); return }
        #expect(error == .authenticationFailed)
        #expect(error.errorCode == .authenticationFailed)
        #expect(error.detail.contains("'web-1'") && error.detail.contains("'web-2'"), "\(error.detail)")
        #expect(server.peer == nil)
    }

    @Test func aCertificateNamingNoHostIsRefused() {
        var server = server(certified: nil)
        guard case .reject(let error) = server.receive(hello(host: "web-1")) else { Issue.record("accepted"); return }
        #expect(error == .authenticationFailed && error.detail.contains("names no host"), "\(error.detail)")
    }

    @Test func aClientMayQueryUnderAnyName() {
        var server = server(certified: "web-1")
        guard case .send(.challenge) = server.receive(hello(host: "laptop", role: .client)) else { Issue.record("refused"); return }
    }

    @Test func withoutMutualTLSTheHelloNameStands() {
        var server = ServerHandshake(configuration: .init(token: Fixtures.token), nonce: Self.nonce)
        guard case .send(.challenge) = server.receive(hello(host: "anything")) else { Issue.record("refused"); return }
    }
}
