import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// A prefork server (a master that forks workers without exec, as nginx and Apache do) run
/// through agent/leakwatch-run with a live collector: every worker ships on its own, as a process
/// instance of the host, with its own leaking function.
@Suite struct ForkedWorkersTests {
    @Test(.timeLimit(.minutes(4)))
    func everyWorkerIsAnInstanceOfTheHost() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let source = ChildProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/Preload/prefork_server.c")
        let program = directory.appendingPathComponent("prefork_server")
        let compiled = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/cc"),
                                                  ["-g", "-O0", "-fno-omit-frame-pointer", source.path, "-o", program.path])
        try #require(compiled.status == 0, "cc failed: \(compiled.summary)")
        let tokenFile = directory.appendingPathComponent("token")
        try Data(testToken).write(to: tokenFile)
        try await TestCollector.start(dataDirectory: directory.path + "/data").use { running in

            let plain = try await ChildProcess.run(program, ["2", "0.2"])
            // The workers run until every one has shipped four snapshots (at most 120 s), not for a
            // fixed time that a loaded machine may not give their agents' first connections.
            let stop = directory.appendingPathComponent("stop").path
            async let run = ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [
                ChildProcess.repositoryRoot.appendingPathComponent("agent/leakwatch-run").path,
                "--library", try BuiltProducts.preloadLibrary.path, "--collector", "127.0.0.1:\(running.port)",
                "--token-file", tokenFile.path, "--host", "prefork-1", "--interval", "0.25", "--sample-bytes", "4096",
                "--", program.path, "2", "120", stop,
            ])
            var shipped: [Int: Int] = [:]
            _ = await waitUntil(seconds: 110) {
                shipped = (try? running.collector.sqliteStore.read { db in
                    try Row.fetchAll(db, sql: """
                        SELECT processInstance.processId, count(sample.id) FROM processInstance
                        JOIN host ON host.id = processInstance.hostId LEFT JOIN sample ON sample.instanceId = processInstance.id
                        WHERE host.name = 'prefork-1' GROUP BY processInstance.id
                        """).reduce(into: [Int: Int]()) { $0[$1[0]] = $1[1] }
                }) ?? [:]
                return shipped.count >= 3 && shipped.values.filter { $0 >= 4 }.count >= 3
            }
            _ = FileManager.default.createFile(atPath: stop, contents: nil)
            let result = try await run
            #expect(result.status == 0 && result.standardOutput.hasSuffix("workers done\n"), "\(result.summary)")
            #expect(result.standardError == plain.standardError)
            let workers = Set(result.standardOutput.split(separator: "\n").compactMap { line in
                line.hasPrefix("worker=") ? Int(line.dropFirst("worker=".count)) : nil
            })
            try #require(workers.count == 2, "\(result.summary)")
            for worker in workers {
                #expect((shipped[worker] ?? 0) >= 4, "worker \(worker) shipped \(shipped[worker] ?? 0) snapshots: \(shipped)")
            }
            #expect(shipped.count == 3, "the master and its two workers, each one instance: \(shipped)")
            let stacks = try running.collector.sqliteStore.read { db in try String.fetchAll(db, sql: "SELECT frames FROM stack") }
            #expect(stacks.contains { $0.contains("leak_in_worker") }, "no stored stack names leak_in_worker")
        }
    }
}
