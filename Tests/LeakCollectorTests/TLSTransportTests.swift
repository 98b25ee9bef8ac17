import Foundation
import LeakAgent
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// The same frames inside TLS 1.3: the agent's OpenSSL side against the collector's swift-nio-ssl
/// side, over real TCP on 127.0.0.1, with certificates `openssl` makes for each test.
@Suite struct TLSTransportTests {
    /// A collector serving TLS with `certificates.server`; with `mutual`, clients need a certificate
    /// from `certificates.certificateAuthority`.
    static func start(_ certificates: TestCertificates, mutual: Bool = false,
                      listenHost: String = "127.0.0.1") async throws -> TestCollector {
        try await TestCollector.start { configuration in
            configuration.listenHost = listenHost
            configuration.tls = CollectorTLSConfiguration(
                certificateChainFile: certificates.server.certificate, privateKeyFile: certificates.server.key,
                clientCAFile: mutual ? certificates.certificateAuthority : nil)
        }
    }

    static func trusting(_ authority: String, client: TestCertificates.Pair? = nil) throws -> TLSClientContext {
        try TLSClientContext(files: .init(certificateAuthorityFile: authority, certificateFile: client?.certificate,
                                          privateKeyFile: client?.key))
    }

    @Test func theShipperShipsThroughTLSAndTheSnapshotsAreStored() async throws {
        let certificates = try await TestCertificates.make(clientHosts: [])
        defer { certificates.remove() }
        try await Self.start(certificates).use { running in
            let configuration = ShipperConfiguration(
                collectorHost: "127.0.0.1", collectorPort: running.port, token: testToken,
                tls: try Self.trusting(certificates.certificateAuthority), hostName: "shipped-over-tls",
                intervalSeconds: 0.05, backoffMinimumSeconds: 0.05, backoffMaximumSeconds: 0.2)
            let shipper = Shipper(configuration: configuration) {
                var snapshot = Wire.Snapshot(makeSnapshot(sequence: 0, siteCount: 5))
                snapshot.timestampUnixNanos = 0
                return snapshot
            }
            shipper.start()
            let acknowledged = await waitUntil(seconds: 20) { shipper.statistics.snapshotsAcknowledged >= 10 }
            #expect(shipper.stop())
            #expect(acknowledged, "\(shipper.statistics)")
            #expect(shipper.statistics.connectionFailures == 0, "\(shipper.statistics)")
            #expect(try running.collector.store.hosts().map(\.name) == ["shipped-over-tls"])

            // By name too: the certificate's DNS name is checked, and sent as the server name.
            let agent = try await blocking {
                try TestAgent(port: running.port, hostName: "by-name", collectorHost: "localhost",
                              tls: try Self.trusting(certificates.certificateAuthority))
            }
            #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 1)) } == 1)
        }
    }

    @Test func aCollectorCertificateFromAnotherCAIsRefusedOnBothSides() async throws {
        let certificates = try await TestCertificates.make(clientHosts: [])
        defer { certificates.remove() }
        try await Self.start(certificates).use { running in
            let error = try await #require(throws: WireError.self) {
                try await blocking {
                    _ = try TestAgent(port: running.port, hostName: "web-1", tls: try Self.trusting(certificates.otherCertificateAuthority))
                }
            }
            #expect(error == .tlsFailed)
            #expect(error.detail.contains("certificate did not verify (unable to get local issuer certificate)"), "\(error)")
            #expect(await waitUntil(seconds: 5) { running.logs.contains("TLS handshake failed") }, "\(running.logs.all)")
            #expect(try running.collector.store.hosts().isEmpty)
        }
    }

    @Test func aCollectorCertificateForAnotherAddressIsRefused() async throws {
        let certificates = try await TestCertificates.make(clientHosts: [])
        defer { certificates.remove() }
        try await Self.start(certificates, listenHost: "127.0.0.2").use { running in
            // 127.0.0.2 is this machine too, but the certificate names 127.0.0.1 and localhost only.
            let error = try await #require(throws: WireError.self) {
                try await blocking {
                    _ = try TestAgent(port: running.port, hostName: "web-1", collectorHost: "127.0.0.2",
                                      tls: try Self.trusting(certificates.certificateAuthority))
                }
            }
            #expect(error == .tlsFailed && error.detail.contains("IP address mismatch"), "\(error)")
        }
    }

    @Test func plaintextAndTLSPeersAreToldApart() async throws {
        let certificates = try await TestCertificates.make(clientHosts: [])
        defer { certificates.remove() }
        try await Self.start(certificates).use { running in
            await #expect(throws: WireError.self) {
                try await blocking { _ = try TestAgent(port: running.port, hostName: "plain") }
            }
            #expect(await waitUntil(seconds: 5) { running.logs.contains("TLS handshake failed") }, "\(running.logs.all)")
        }
        try await TestCollector.start().use { plaintext in
            let error = try await #require(throws: WireError.self) {
                try await blocking {
                    _ = try TestAgent(port: plaintext.port, hostName: "tls", tls: try Self.trusting(certificates.certificateAuthority))
                }
            }
            #expect(error == .tlsFailed && error.detail.contains("serving TLS?"), "\(error)")
        }
    }

    @Test func aConnectionBeyondTheMaximumIsToldWhyInsideTLS() async throws {
        let certificates = try await TestCertificates.make(clientHosts: [])
        defer { certificates.remove() }
        try await TestCollector.start { configuration in
            configuration.maximumConnections = 1
            configuration.tls = CollectorTLSConfiguration(
                certificateChainFile: certificates.server.certificate, privateKeyFile: certificates.server.key)
        }.use { running in
            let context = try Self.trusting(certificates.certificateAuthority)
            let admitted = try await blocking { try TestAgent(port: running.port, hostName: "admitted", tls: context) }
            let refusal = try await blocking { () -> Wire.CollectorMessage in
                var options = BlockingConnection.Options()
                options.tls = context
                let connection = try BlockingConnection.connect(host: "127.0.0.1", port: running.port, options: options)
                return try connection.receive(Wire.CollectorMessage.self)
            }
            guard case .error(let error) = refusal else { Issue.record("expected an Error frame, got \(refusal)"); return }
            #expect(error.message.contains("limit of 1 connections"), "\(error)")
            #expect(try await blocking { try admitted.sendAndWait(makeSnapshot(sequence: 1)) } == 1)
        }
    }

    // MARK: Mutual TLS

    @Test func mutualTLSRefusesAClientWithoutACertificate() async throws {
        let certificates = try await TestCertificates.make(clientHosts: ["host-a"])
        defer { certificates.remove() }
        try await Self.start(certificates, mutual: true).use { running in
            let error = try await #require(throws: WireError.self) {
                try await blocking {
                    _ = try TestAgent(port: running.port, hostName: "host-a", tls: try Self.trusting(certificates.certificateAuthority))
                }
            }
            #expect(error == .tlsFailed && error.detail.contains("the collector refused the session"), "\(error)")
            #expect(await waitUntil(seconds: 5) { running.logs.contains("TLS handshake failed") }, "\(running.logs.all)")

            let stranger = try await #require(throws: WireError.self) {
                try await blocking {
                    _ = try TestAgent(port: running.port, hostName: "stranger",
                                      tls: try Self.trusting(certificates.certificateAuthority, client: certificates.strangerClient))
                }
            }
            #expect(stranger == .tlsFailed && stranger.detail.contains("the collector refused the session"), "\(stranger)")
            #expect(try running.collector.store.hosts().isEmpty)
        }
    }

    @Test func underMutualTLSAHostReportsOnlyAsItsCertificateNamesIt() async throws {
        let certificates = try await TestCertificates.make(clientHosts: ["host-a", "host-b"])
        defer { certificates.remove() }
        try await Self.start(certificates, mutual: true).use { running in
            let hostA = try Self.trusting(certificates.certificateAuthority, client: certificates.client("host-a"))
            let error = try await #require(throws: WireError.self) {
                try await blocking { _ = try TestAgent(port: running.port, hostName: "host-b", tls: hostA) }
            }
            #expect(error == .remoteError && error.detail.contains("AUTHENTICATION_FAILED")
                        || error.detail.contains("authenticationFailed"), "\(error)")
            #expect(error.detail.contains("'host-a'") && error.detail.contains("'host-b'"), "\(error)")
            #expect(running.logs.contains("a host reports only under its certificate's name"), "\(running.logs.all)")

            for (host, context) in [("host-a", hostA),
                                    ("host-b", try Self.trusting(certificates.certificateAuthority, client: certificates.client("host-b")))] {
                let agent = try await blocking { try TestAgent(port: running.port, hostName: host, tls: context) }
                #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 1)) } == 1)
            }
            #expect(Set(try running.collector.store.hosts().map(\.name)) == ["host-a", "host-b"])
        }
    }

    @Test func mutualTLSAloneAuthenticatesWithoutAToken() async throws {
        let certificates = try await TestCertificates.make(clientHosts: ["host-a"])
        defer { certificates.remove() }
        try await TestCollector.start { configuration in
            configuration.token = nil
            configuration.tls = CollectorTLSConfiguration(
                certificateChainFile: certificates.server.certificate, privateKeyFile: certificates.server.key,
                clientCAFile: certificates.certificateAuthority)
        }.use { running in
            let context = try Self.trusting(certificates.certificateAuthority, client: certificates.client("host-a"))
            let agent = try await blocking { try TestAgent(port: running.port, hostName: "host-a", token: [], tls: context) }
            #expect(try await blocking { try agent.sendAndWait(makeSnapshot(sequence: 1)) } == 1)
        }
    }
}
