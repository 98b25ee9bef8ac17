import Testing
@testable import LeakWire
@testable import LeakWireCore

@Suite("Handshake")
struct HandshakeTests {
    static let nonce = (0..<32).map { UInt8($0 * 3) }

    func server(token: [UInt8] = Fixtures.token, versions: [UInt32] = [1]) -> ServerHandshake {
        ServerHandshake(configuration: .init(token: token, supportedVersions: versions, collectorVersion: "test"),
                        nonce: Self.nonce)
    }

    /// The agent's message as the collector reads it: encoded by hand, decoded by SwiftProtobuf.
    func toServer(_ message: some WireEncodable) throws -> WireMessage {
        try WireMessage(FrameDecoder.decodeSingleFrame(FrameEncoder().encode(message)))
    }

    /// The collector's message as the agent reads it.
    func toClient(_ message: WireMessage) throws -> Wire.CollectorMessage {
        try Wire.CollectorMessage(FrameDecoder.decodeSingleFrame(FrameEncoder().encode(message)))
    }

    @Test func bothSidesReachEstablished() throws {
        var client = ClientHandshake(hello: Fixtures.exampleWireHello, token: Fixtures.token)
        var server = server()
        guard case .send(let challenge) = server.receive(try toServer(client.start())) else { Issue.record("no challenge"); return }
        guard case .send(let authenticate) = try client.receive(toClient(challenge)) else { Issue.record("no proof"); return }
        guard case .authenticated(let hello, let version) = server.receive(try toServer(authenticate)) else {
            Issue.record("not authenticated"); return
        }
        #expect(hello == Fixtures.exampleHello)
        #expect(version == 1)
        #expect(server.peer == Fixtures.exampleHello)
        guard case .established(let welcome) = try client.receive(toClient(server.welcome(lastAcknowledgedSequence: 17))) else {
            Issue.record("not established"); return
        }
        #expect(welcome.lastAcknowledgedSequence == 17)
        #expect(welcome.version == 1)
        #expect(client.isEstablished)
        #expect(client.negotiatedVersion == 1)
    }

    @Test func theHighestCommonVersionIsChosen() {
        #expect(ProtocolVersion.negotiate(offered: [1, 2, 3], supported: [1, 2]) == 2)
        #expect(ProtocolVersion.negotiate(offered: [3], supported: [1, 2]) == nil)
        var hello = Fixtures.exampleHello
        hello.supportedVersions = [2, 3]
        var server = server(versions: [1])
        guard case .reject(let error) = server.receive(.hello(hello)) else { Issue.record("accepted"); return }
        #expect(error == .noCommonVersion)
        #expect(error.errorCode == .unsupportedVersion)
    }

    @Test func aWrongTokenIsRejected() throws {
        var client = ClientHandshake(hello: Fixtures.exampleWireHello, token: Array("wrong".utf8))
        var server = server()
        guard case .send(let challenge) = server.receive(try toServer(client.start())),
              case .send(let authenticate) = try client.receive(toClient(challenge)) else { Issue.record("no proof"); return }
        guard case .reject(let error) = server.receive(try toServer(authenticate)) else { Issue.record("accepted"); return }
        #expect(error == .authenticationFailed)
        #expect(error.detail.contains("same token"))
        #expect(server.peer == nil)
    }

    @Test func withoutAuthenticationAnyProofIsAcceptedAtTheNegotiatedVersion() throws {
        var client = ClientHandshake(hello: Fixtures.exampleWireHello, token: Array("wrong".utf8))
        var server = ServerHandshake(
            configuration: .init(authentication: .acceptAnyProof, supportedVersions: [1], collectorVersion: "test"),
            nonce: Self.nonce)
        guard case .send(let challenge) = server.receive(try toServer(client.start())),
              case .send(let authenticate) = try client.receive(toClient(challenge)) else { Issue.record("no proof"); return }
        guard case .authenticated(let hello, let version) = server.receive(try toServer(authenticate)) else {
            Issue.record("not authenticated"); return
        }
        #expect(hello == Fixtures.exampleHello)
        #expect(version == 1)
        #expect(server.peer == Fixtures.exampleHello)
        guard case .established(let welcome) = try client.receive(toClient(server.welcome(lastAcknowledgedSequence: 5))) else {
            Issue.record("not established"); return
        }
        #expect(welcome.version == 1)
        #expect(welcome.lastAcknowledgedSequence == 5)
    }

    @Test("an agent's names are bounded: 255 bytes for host and service, 64 for the agent version",
          arguments: ["host_name", "service_name", "agent_version"])
    func helloNamesAreBounded(_ name: String) {
        let limit = name == "agent_version" ? 64 : 255
        func hello(bytes: Int) -> Leakwatch_V1_Hello {
            var hello = Fixtures.exampleHello
            // Two-byte characters: the bound is in UTF-8 bytes, not characters.
            let text = String(repeating: "é", count: bytes / 2) + (bytes % 2 == 1 ? "x" : "")
            switch name {
            case "host_name": hello.hostName = text
            case "service_name": hello.serviceName = text
            default: hello.agentVersion = text
            }
            return hello
        }
        var accepting = ServerHandshake(configuration: .init(token: Fixtures.token), nonce: Self.nonce)
        guard case .send(.challenge) = accepting.receive(.hello(hello(bytes: limit))) else {
            Issue.record("\(name) of \(limit) bytes refused"); return
        }
        var refusing = ServerHandshake(configuration: .init(token: Fixtures.token), nonce: Self.nonce)
        guard case .reject(let error) = refusing.receive(.hello(hello(bytes: limit + 1))) else {
            Issue.record("\(name) of \(limit + 1) bytes accepted"); return
        }
        #expect(error == .malformedMessage && error.description.contains(name), "\(error)")
    }

    @Test func withoutAuthenticationTheHandshakeIsOtherwiseUnchanged() {
        let configuration = ServerHandshake.Configuration(authentication: .acceptAnyProof)
        // Hello is still checked...
        var noHost = Fixtures.exampleHello
        noHost.hostName = ""
        var badHello = ServerHandshake(configuration: configuration, nonce: Self.nonce)
        guard case .reject(let malformed) = badHello.receive(.hello(noHost)) else { Issue.record("accepted"); return }
        #expect(malformed == .malformedMessage)
        // ...Authenticate is still required after Challenge...
        var skipped = ServerHandshake(configuration: configuration, nonce: Self.nonce)
        guard case .send(.challenge) = skipped.receive(.hello(Fixtures.exampleHello)) else {
            Issue.record("no challenge"); return
        }
        guard case .reject(let unexpected) = skipped.receive(.snapshot(Fixtures.exampleSnapshot)) else {
            Issue.record("snapshot instead of Authenticate accepted"); return
        }
        #expect(unexpected == .unexpectedMessage)
        #expect(skipped.peer == nil)
        // ...and cannot come first.
        var early = ServerHandshake(configuration: configuration, nonce: Self.nonce)
        guard case .reject(let first) = early.receive(.authenticate(Leakwatch_V1_Authenticate())) else {
            Issue.record("Authenticate before Hello accepted"); return
        }
        #expect(first == .unexpectedMessage)
    }

    @Test func aProofFromAnotherConnectionIsRejected() throws {
        // Record a valid proof on one connection...
        var client = ClientHandshake(hello: Fixtures.exampleWireHello, token: Fixtures.token)
        var first = server()
        guard case .send(let challenge) = first.receive(try toServer(client.start())),
              case .send(let recorded) = try client.receive(toClient(challenge)) else { Issue.record("no proof"); return }
        // ...and replay it on a connection with a different nonce.
        var second = ServerHandshake(configuration: .init(token: Fixtures.token))
        _ = second.receive(.hello(Fixtures.exampleHello))
        guard case .reject(let error) = second.receive(try toServer(recorded)) else { Issue.record("replay accepted"); return }
        #expect(error == .authenticationFailed)
    }

    @Test func aProofDoesNotCoverAnotherIdentity() throws {
        let identity = Fixtures.exampleHello.authenticationIdentity
        let proof = try #require(WireAuthentication.proof(token: Fixtures.token, nonce: Self.nonce, chosenVersion: 1,
                                                          identity: identity))
        #expect(WireAuthentication.isValidProof(proof, token: Fixtures.token, nonce: Self.nonce, chosenVersion: 1,
                                                identity: identity))
        var impostor = Fixtures.exampleHello
        impostor.hostName = "web-4"
        #expect(!WireAuthentication.isValidProof(proof, token: Fixtures.token, nonce: Self.nonce, chosenVersion: 1,
                                                 identity: impostor.authenticationIdentity))
        #expect(!WireAuthentication.isValidProof(proof, token: Fixtures.token, nonce: Self.nonce, chosenVersion: 2,
                                                 identity: identity))
        #expect(!WireAuthentication.isValidProof(Array(proof.dropLast()), token: Fixtures.token, nonce: Self.nonce,
                                                 chosenVersion: 1, identity: identity))
        #expect(WireAuthentication.makeNonce() != WireAuthentication.makeNonce())
        #expect(WireAuthentication.makeNonce().count == 32)
    }

    @Test func messagesOutOfOrderAreProtocolViolations() throws {
        var server = server()
        guard case .reject(let error) = server.receive(.snapshot(Fixtures.exampleSnapshot)) else {
            Issue.record("snapshot before hello accepted"); return
        }
        #expect(error == .unexpectedMessage)
        #expect(error.errorCode == .protocolViolation)

        var client = ClientHandshake(hello: Fixtures.exampleWireHello, token: Fixtures.token)
        _ = client.start()
        #expect(throws: WireError.unexpectedMessage) { try client.receive(.ack(Wire.Ack())) }
        var queried = ClientHandshake(hello: Fixtures.exampleWireHello, token: Fixtures.token)
        _ = queried.start()
        #expect(throws: WireError.unexpectedMessage) { try queried.receive(.other(.hostReportResponse)) }
    }

    @Test func anErrorFromTheCollectorSurfacesItsCodeAndMessage() throws {
        var client = ClientHandshake(hello: Fixtures.exampleWireHello, token: Fixtures.token)
        _ = client.start()
        var error = Leakwatch_V1_Error()
        error.code = .shuttingDown
        error.message = "collector stopping"
        do {
            _ = try client.receive(toClient(.error(error)))
            Issue.record("no error thrown")
        } catch let wireError as WireError {
            #expect(wireError == .remoteError)
            #expect(wireError.detail.contains("collector stopping"))
            #expect(wireError.detail.contains("shuttingDown"))
        }
    }

    @Test func badHellosAreRejected() {
        var noRole = Fixtures.exampleHello
        noRole.role = .unspecified
        var noInstance = Fixtures.exampleHello
        noInstance.processInstanceID = .init()
        var noHost = Fixtures.exampleHello
        noHost.hostName = ""
        for hello in [noRole, noInstance, noHost] {
            var server = server()
            guard case .reject(let error) = server.receive(.hello(hello)) else { Issue.record("accepted"); continue }
            #expect(error == .malformedMessage)
        }
        var client = Leakwatch_V1_Hello()
        client.role = .client
        client.supportedVersions = [1]
        var server = server()
        guard case .send(.challenge) = server.receive(.hello(client)) else { Issue.record("client refused"); return }
    }
}
