import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// The preloaded agent (leakwatch-run; libLeakAgentRuntime.so loads libssl once TLS is configured) shipping through TLS to a
/// live collector, and saying so, the way it reports any other connection failure, when TLS fails.
@Suite struct AgentTLSTests {
    typealias Visibility = AgentFailureVisibilityTests

    static func start(_ certificates: TestCertificates, directory: TemporaryDirectory) async throws -> TestCollector {
        try await TestCollector.start(dataDirectory: directory.path + "/data") { configuration in
            configuration.tls = CollectorTLSConfiguration(
                certificateChainFile: certificates.server.certificate, privateKeyFile: certificates.server.key,
                clientCAFile: certificates.certificateAuthority)
        }
    }

    static func tlsArguments(authority: String, client: TestCertificates.Pair) -> [String] {
        ["--tls-ca", authority, "--tls-cert", client.certificate, "--tls-key", client.key]
    }

    @Test func thePreloadedAgentShipsThroughMutualTLS() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(clientHosts: ["tls-host"])
        defer { certificates.remove() }
        try await Self.start(certificates, directory: directory).use { running in
            let token = try Visibility.tokenFile(testToken, in: directory, name: "token")
            let program = try await Visibility.compileRunUntilFile(in: directory)
            let stop = directory.appendingPathComponent("stop").path
            let report = directory.appendingPathComponent("report.json").path
            async let run = ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
                Visibility.script, "--library", try Visibility.library, "--collector", "127.0.0.1:\(running.port)",
                "--token-file", token, "--host", "tls-host", "--interval", "0.2", "--report", report,
            ] + Self.tlsArguments(authority: certificates.certificateAuthority, client: certificates.client("tls-host"))
              + ["--", program, stop, "120"])
            let stored = await waitUntil(seconds: 110) {
                (try? running.collector.sqliteStore.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0 }) ?? 0 >= 3
            }
            _ = FileManager.default.createFile(atPath: stop, contents: nil)
            let result = try await run
            #expect(stored, "the collector stored fewer than three snapshots in 110 s: \(result.summary)")
            #expect(result.status == 0 && Visibility.failureLines(result).isEmpty, "\(result.summary)")
            #expect(try running.collector.store.hosts().map(\.name) == ["tls-host"])
            let shipping = try Visibility.shipping(in: report)
            #expect((shipping["snapshotsAcknowledged"] as? Int ?? 0) >= 1 && shipping["lastError"] == nil, "\(shipping)")
        }
    }

    @Test func aWrongCAIsOneLineOnStderrInTheExitReportAndInTheCollectorsLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(clientHosts: ["tls-host"])
        defer { certificates.remove() }
        try await Self.start(certificates, directory: directory).use { running in
            let token = try Visibility.tokenFile(testToken, in: directory, name: "token")
            let report = directory.appendingPathComponent("report.json").path
            let result = try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
                Visibility.script, "--library", try Visibility.library, "--collector", "127.0.0.1:\(running.port)",
                "--token-file", token, "--host", "tls-host", "--interval", "0.2", "--report", report,
            ] + Self.tlsArguments(authority: certificates.otherCertificateAuthority, client: certificates.client("tls-host"))
              + ["--", "/bin/sleep", "8"])
            #expect(result.status == 0 && result.standardOutput.isEmpty, "\(result.summary)")
            let lines = Visibility.failureLines(result)
            #expect(lines.count == 1, "one line, then at most one a minute: \(result.standardError)")
            #expect(lines.first?.contains("certificate did not verify (unable to get local issuer certificate)") == true,
                    "\(result.standardError)")
            let shipping = try Visibility.shipping(in: report)
            #expect((shipping["connectionFailures"] as? Int ?? 0) >= 2, "\(shipping)")
            #expect((shipping["lastError"] as? String)?.contains("did not verify") == true, "\(shipping)")
            #expect(running.logs.contains("TLS handshake failed"), "\(running.logs.all)")
            #expect(try running.collector.store.hosts().isEmpty)
        }
    }

    @Test func checkSaysWhetherTheAgentCanShipThroughTLS() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificates = try await TestCertificates.make(clientHosts: ["tls-host", "other-host"])
        defer { certificates.remove() }
        try await Self.start(certificates, directory: directory).use { running in
            let token = try Visibility.tokenFile(testToken, in: directory, name: "token")
            func check(authority: String, client: String, host: String = "tls-host") async throws -> ChildResult {
                try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
                    Visibility.script, "--library", try Visibility.library, "--check", "--collector", "127.0.0.1:\(running.port)",
                    "--token-file", token, "--host", host,
                ] + Self.tlsArguments(authority: authority, client: certificates.client(client)))
            }
            let good = try await check(authority: certificates.certificateAuthority, client: "tls-host")
            #expect(good.status == 0 && good.standardError.contains("over TLS") && good.standardError.contains("authenticated"),
                    "\(good.summary)")
            let wrongCA = try await check(authority: certificates.otherCertificateAuthority, client: "tls-host")
            #expect(wrongCA.status == 1 && wrongCA.standardError.contains("did not verify"), "\(wrongCA.summary)")
            let anotherHost = try await check(authority: certificates.certificateAuthority, client: "other-host")
            #expect(anotherHost.status == 1 && anotherHost.standardError.contains("the client certificate is for host 'other-host' but Hello names host 'tls-host'"),
                    "\(anotherHost.summary)")
        }
    }

    @Test func anUnreadableTLSSettingTurnsTheAgentOffWithOneLine() async throws {
        // Long enough for the runtime to start: it loads on a thread of its own, 50 ms in.
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "sleep 1; echo the program ran"], environment: [
            "LD_PRELOAD": try Visibility.library, "LEAKWATCH_COLLECTOR": "127.0.0.1:\(try closedPort())",
            "LEAKWATCH_TLS_CA": "/nonexistent/ca.pem",
        ])
        #expect(result.status == 0 && result.standardOutput == "the program ran\n", "\(result.summary)")
        let lines = result.standardError.split(separator: "\n")
        // sh and sleep each start an agent of their own: each says it once.
        #expect(!lines.isEmpty && lines.allSatisfy {
            $0.hasPrefix("leakwatch: LEAKWATCH_TLS_CA=\"/nonexistent/ca.pem\" is not valid")
                && $0.contains("cannot be read: No such file or directory") && $0.contains("the agent is off")
        }, "\(result.standardError)")
    }
}
