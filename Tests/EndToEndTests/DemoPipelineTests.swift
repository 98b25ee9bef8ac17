import Foundation
import LeakTestSupport
import LeakWire
import Testing

/// The demo's flow as a test: a real collector process with a real database file, real servers
/// linked with the agent shipping over real sockets; the leaking host must be flagged with the
/// leaking function and the others must not.
@Suite(.serialized)
struct DemoPipelineTests {
    @Test(.timeLimit(.minutes(3)))
    func leakingHostIsFlaggedWithItsFunctionAndOthersAreNot() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let work = scratch.url
        let token = "end-to-end-token"
        try token.write(to: work.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try """
        {"listen": "127.0.0.1:0", "dataDirectory": "data", "tokenFile": "token",
         "analysisTimeScale": 360, "verdictIntervalSeconds": 1, "staleAfterSeconds": 10}
        """.write(to: work.appendingPathComponent("collector.json"), atomically: true, encoding: .utf8)

        let children = ChildProcesses()
        defer { children.stopAll() }
        let collectorLog = work.appendingPathComponent("collector.log")
        let collector = try children.start("collector", ["--config", work.appendingPathComponent("collector.json").path],
                                           environment: ["LOG_LEVEL": "info"], log: collectorLog)
        let port = try await collectorPort(log: collectorLog, process: collector)

        let agentEnvironment = [
            "LEAKWATCH_COLLECTOR": "127.0.0.1:\(port)", "LEAKWATCH_TOKEN": token,
            "LEAKWATCH_INTERVAL": "0.25", "LEAKWATCH_SAMPLE_BYTES": "65536",
        ]
        let hosts: [(String, [String])] = [
            ("web-1", []), ("web-3", ["--leak", "--leak-bytes-per-second", "262144"]),
            ("worker-1", ["--requests-per-second", "500"]),
        ]
        for (host, arguments) in hosts {
            try children.start("leakwatch-demo-server", arguments,
                               environment: agentEnvironment.merging(["LEAKWATCH_HOST": host, "LEAKWATCH_SERVICE": "demo"]) { $1 },
                               log: work.appendingPathComponent("\(host).log"))
        }

        // 55 s of snapshots read like 5.5 h at production settings (analysisTimeScale 360).
        var reports: [String: Leakwatch_V1_HostReportResponse] = [:]
        let deadline = Date().addingTimeInterval(90)
        repeat {
            try await Task.sleep(for: .seconds(5))
            for (host, _) in hosts {
                reports[host] = try await blocking { try Self.hostReport(host, port: port, token: token) }
            }
            let line = hosts.map { "\($0.0)=\(reports[$0.0]?.verdict.status ?? .unknown)" }.joined(separator: " ")
            try? (line + "\n").appendOrCreate(work.appendingPathComponent("progress.log"))
        } while Date() < deadline && reports["web-3"]?.verdict.status != .suspectedLeak

        let leaking = try #require(reports["web-3"])
        #expect(leaking.verdict.status == .suspectedLeak)
        #expect(leaking.verdict.rateBytesPerHour > 100_000_000, "the leak grows ~0.9 GB/h")
        let responsible = Set(leaking.verdict.responsibleStackIds)
        let culprit = leaking.sites.filter { responsible.contains($0.stackID) }
        #expect(culprit.contains { site in site.frames.contains { $0.function.contains("SessionRegistry.openSession") } },
                "responsible sites: \(culprit.map { $0.frames.prefix(6).map(\.function) })")
        #expect(culprit.contains { $0.typeName == "Session" || $0.typeName.hasSuffix(".Session") })
        for host in ["web-1", "worker-1"] {
            let report = try #require(reports[host])
            #expect(report.verdict.status != .suspectedLeak && report.verdict.status != .growing,
                    "\(host) flagged: \(report.verdict)")
            #expect(report.latestStats.allocationCount > 0, "\(host) shipped no snapshots")
        }
    }

    private static func hostReport(_ host: String, port: Int, token: String) throws -> Leakwatch_V1_HostReportResponse {
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: port)
        defer { connection.close() }
        _ = try connection.handshake(
            hello: Wire.Hello(supportedVersions: [1], role: .client, hostName: "end-to-end-test", agentVersion: "test"),
            token: Array(token.utf8))
        try connection.send(.hostReportRequest(.with {
            $0.requestID = 1
            $0.host = host
        }))
        guard case .hostReportResponse(let response) = try connection.receive() else {
            throw TestFailure("expected a host report for \(host)")
        }
        return response
    }
}

extension String {
    func appendOrCreate(_ url: URL) throws {
        if let handle = try? FileHandle(forWritingTo: url) {
            handle.seekToEndOfFile()
            handle.write(Data(utf8))
            handle.closeFile()
        } else {
            try write(to: url, atomically: true, encoding: .utf8)
        }
    }
}
