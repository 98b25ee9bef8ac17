import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// The agent names addresses in `leakwatch-symbolizer`, a process the watched program never sees:
/// the names reach the collector, and a program that counts SIGCHLD and reaps with
/// `waitpid(-1, ...)` finds no child of its own.
@Suite struct SymbolizerProcessTests {
    @Test func namesReachTheCollectorAndTheProgramSeesNoChild() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = ChildProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/Preload/child_watcher.c")
        let program = directory.appendingPathComponent("child_watcher").path
        let compiled = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/cc"),
                                                  ["-g", "-O0", "-fno-omit-frame-pointer", source.path, "-o", program])
        try #require(compiled.status == 0, "cc failed: \(compiled.summary)")
        let token = directory.appendingPathComponent("token").path
        try Data(testToken).write(to: URL(fileURLWithPath: token))
        let report = directory.appendingPathComponent("report.json").path
        let stop = directory.appendingPathComponent("stop").path

        try await TestCollector.start(dataDirectory: directory.path + "/data").use { running in
            async let run = ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
                AgentFailureVisibilityTests.script, "--library", try AgentFailureVisibilityTests.library,
                "--collector", "127.0.0.1:\(running.port)", "--token-file", token, "--interval", "0.2",
                "--sample-bytes", "4096", "--report", report, "--", program, stop, "120",
            ])
            let named = await waitUntil(seconds: 110) {
                let stacks = try? running.collector.sqliteStore.read { db in
                    try String.fetchAll(db, sql: "SELECT frames FROM stack WHERE frames LIKE '%watched_allocation%'")
                }
                return stacks?.isEmpty == false
            }
            _ = FileManager.default.createFile(atPath: stop, contents: nil)
            let result = try await run
            #expect(named, "no stored stack names watched_allocation after 110 s")
            #expect(result.status == 0 && result.standardOutput == "sigchld 0 reaped 0\n", "\(result.summary)")
            let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
            let symbolizer = try #require(root["symbolizer"] as? String)
            #expect(symbolizer == BuiltProducts.url("leakwatch-symbolizer").path, "named where: \(symbolizer)")
        }
    }
}
