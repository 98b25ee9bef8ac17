import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// An agent that cannot reach or authenticate to its collector says so: one line on stderr and
/// the failure in the exit report, the program itself unchanged; `leakwatch-run --check` tells
/// before anything runs.
@Suite struct AgentFailureVisibilityTests {
    static var script: String { ChildProcess.repositoryRoot.appendingPathComponent("agent/leakwatch-run").path }
    static var library: String { get throws { try BuiltProducts.preloadLibrary.path } }

    static func tokenFile(_ token: [UInt8], in directory: TemporaryDirectory, name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(token).write(to: url)
        return url.path
    }

    /// `sleep 8` (time for the agent's start, 50 ms in, its runtime's load and two attempts at 0.5 s
    /// backoff, on a loaded machine), preloaded and shipping every 0.2 s to `collector` with the token in `tokenFile`.
    static func shipFromSleep(collector: String, tokenFile: String, report: String) async throws -> ChildResult {
        try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
            script, "--library", try library, "--collector", collector, "--token-file", tokenFile,
            "--interval", "0.2", "--report", report, "--", "/bin/sleep", "8",
        ])
    }

    static func failureLines(_ result: ChildResult) -> [Substring] {
        result.standardError.split(separator: "\n").filter { $0.hasPrefix("leakwatch: cannot ship to") }
    }

    static func shipping(in report: String) throws -> [String: Any] {
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        return try #require(root["shipping"] as? [String: Any], "the exit report has no shipping section")
    }

    @Test func aWrongTokenIsOneLineOnStderrAndInTheExitReport() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path + "/data").use { running in
            let wrong = try Self.tokenFile(Array("not-the-fleet-token-000000".utf8), in: directory, name: "wrong")
            let report = directory.appendingPathComponent("report.json").path
            // The program runs until the collector has refused the agent twice (then the exit
            // report must count two failures behind one stderr line), not for a fixed time that a
            // loaded machine may not give a second attempt.
            let waiting = try await Self.compileRunUntilFile(in: directory)
            let refused = directory.appendingPathComponent("refused").path
            async let run = ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
                Self.script, "--library", try Self.library, "--collector", "127.0.0.1:\(running.port)", "--token-file", wrong,
                "--interval", "0.2", "--report", report, "--", waiting, refused, "120",
            ])
            let refusedTwice = await waitUntil(seconds: 100) {
                running.logs.all.filter { $0.contains("closing connection after a protocol error") }.count >= 2
            }
            _ = FileManager.default.createFile(atPath: refused, contents: nil)
            let result = try await run
            #expect(refusedTwice, "the collector refused the agent fewer than twice in 100 s: \(running.logs.all.suffix(5))")
            #expect(result.status == 0 && result.standardOutput.isEmpty, "\(result.summary)")
            let lines = Self.failureLines(result)
            #expect(lines.count == 1, "one line, then at most one a minute: \(result.standardError)")
            #expect(lines.first?.contains("authentication failed") == true, "\(result.standardError)")
            let shipping = try Self.shipping(in: report)
            #expect(shipping["snapshotsAcknowledged"] as? Int == 0)
            #expect((shipping["connectionFailures"] as? Int ?? 0) >= 2, "\(shipping)")
            #expect((shipping["lastError"] as? String)?.contains("authentication failed") == true, "\(shipping)")
            #expect(try running.collector.store.hosts().isEmpty, "nothing was stored from an agent with the wrong token")

            // With the right token the same agent ships. The program runs until the collector has
            // stored six of its snapshots (the shipper drains the first acks while it sends the
            // later ones), not for a fixed time that a loaded machine may not give its first connection.
            let good = try Self.tokenFile(testToken, in: directory, name: "good")
            let program = try await Self.compileRunUntilFile(in: directory)
            let stop = directory.appendingPathComponent("stop").path
            async let goodRun = ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
                Self.script, "--library", try Self.library, "--collector", "127.0.0.1:\(running.port)", "--token-file", good,
                "--interval", "0.2", "--report", report, "--", program, stop, "120",
            ])
            let stored = await waitUntil(seconds: 110) {
                (try? running.collector.sqliteStore.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0 }) ?? 0 >= 6
            }
            _ = FileManager.default.createFile(atPath: stop, contents: nil)
            let shipped = try await goodRun
            #expect(stored, "the collector stored fewer than six snapshots in 110 s")
            #expect(shipped.status == 0 && Self.failureLines(shipped).isEmpty, "\(shipped.summary)")
            let healthy = try Self.shipping(in: report)
            #expect((healthy["snapshotsAcknowledged"] as? Int ?? 0) >= 1 && healthy["lastError"] == nil, "\(healthy)")
        }
    }

    /// Tests/Fixtures/Preload/run_until_file.c, compiled into `directory`.
    static func compileRunUntilFile(in directory: TemporaryDirectory) async throws -> String {
        let source = ChildProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/Preload/run_until_file.c")
        let program = directory.appendingPathComponent("run_until_file").path
        let compiled = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/cc"), ["-O1", source.path, "-o", program])
        try #require(compiled.status == 0, "cc failed: \(compiled.summary)")
        return program
    }

    @Test func aClosedPortIsOneLineOnStderrAndInTheExitReport() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let token = try Self.tokenFile(testToken, in: directory, name: "token")
        let report = directory.appendingPathComponent("report.json").path
        let result = try await Self.shipFromSleep(collector: "127.0.0.1:\(try closedPort())", tokenFile: token, report: report)
        #expect(result.status == 0 && result.standardOutput.isEmpty, "\(result.summary)")
        let lines = Self.failureLines(result)
        #expect(lines.count == 1 && lines.first?.contains("Connection refused") == true, "\(result.standardError)")
        #expect((try Self.shipping(in: report)["lastError"] as? String)?.contains("Connection refused") == true)
    }

    @Test func checkSaysWhetherTheAgentCanShip() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path + "/data").use { running in
            let collector = "127.0.0.1:\(running.port)"
            func check(_ arguments: [String]) async throws -> ChildResult {
                try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [Self.script, "--library", try Self.library, "--check"] + arguments)
            }
            let good = try await check(["--collector", collector, "--token-file", try Self.tokenFile(testToken, in: directory, name: "good")])
            #expect(good.status == 0 && good.standardError.contains("authenticated"), "\(good.summary)")
            let wrong = try await check(["--collector", collector,
                                         "--token-file", try Self.tokenFile(Array("wrong-token-000000000000".utf8), in: directory, name: "wrong")])
            #expect(wrong.status == 1 && wrong.standardError.contains("connected to \(collector)")
                        && wrong.standardError.contains("authentication failed"), "\(wrong.summary)")
            let closed = try await check(["--collector", "127.0.0.1:\(try closedPort())"])
            #expect(closed.status == 1 && closed.standardError.contains("Connection refused"), "\(closed.summary)")
            let none = try await check([])
            #expect(none.status == 1 && none.standardError.contains("no collector is configured"), "\(none.summary)")
        }
    }
}
