import Foundation
import LeakCollector
import LeakTestSupport
import LeakWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `collector` executable as a child process.
final class CollectorProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String
    let port: Int

    init(dataDirectory: String, tokenFile: String) async throws {
        let executable = try BuiltProducts.executable("collector")
        logPath = dataDirectory + "/collector-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = executable
        process.arguments = ["--listen", "127.0.0.1:0", "--data", dataDirectory, "--token-file", tokenFile]
        process.environment = ["LOG_LEVEL": "info"]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        do {
            port = try await collectorPort(log: URL(fileURLWithPath: logPath), process: process)
        } catch {
            process.stop(graceSeconds: 0)
            throw error
        }
    }

    /// The end of the collector's log, for a failure message.
    func logTail(lines: Int = 40) -> String {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct CrashRecoveryTests {
    @Test(.timeLimit(.minutes(3))) func killDashNineDuringIngestLosesNoAcknowledgedSnapshot() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = directory.path + "/token"
        try Data(testToken).write(to: URL(fileURLWithPath: tokenFile))
        let child = try await CollectorProcess(dataDirectory: directory.path, tokenFile: tokenFile)
        let port = child.port

        // Four agents stream snapshots as fast as acks allow and record every acked sequence.
        let agentCount = 4
        let instances = (0..<agentCount).map { _ in randomInstanceID() }
        let stop = Locked(false)
        let acked = Locked([Int: [UInt64]]())
        let failures = Locked([String]())
        let finished = Locked(0)
        // Threads, not tasks: a task could wait for the concurrency pool, which other tests'
        // blocking work can hold for longer than this test's deadline.
        for index in 0..<agentCount {
            Thread.detachNewThread {
                defer { finished.withLock { $0 += 1 } }
                do {
                    let agent = try TestAgent(port: port, hostName: "crash-\(index)", instanceID: instances[index])
                    var sequence: UInt64 = 0
                    while !stop.withLock({ $0 }) {
                        for _ in 0..<16 {
                            sequence += 1
                            // Stamped now: the collector's retention pass (its first comes 30 s after
                            // start) would otherwise roll the raw rows of a past date up.
                            let now = Int64(Date().timeIntervalSince1970 * 1e9)
                            try agent.send(makeSnapshot(sequence: sequence, timestampNanos: now, siteCount: 10,
                                                        defineStacks: sequence == 1))
                        }
                        for _ in 0..<16 {
                            let ack = try agent.receiveAck()
                            acked.withLock { $0[index, default: []].append(ack) }
                        }
                    }
                } catch where !stop.withLock({ $0 }) {
                    failures.withLock { $0.append("agent \(index): \(error)") }
                } catch {}
            }
        }
        let streamed = await waitUntil(seconds: 60) {
            acked.withLock { $0.values.map(\.count).reduce(0, +) } >= 400 || !failures.withLock(\.isEmpty)
        }
        #expect(streamed, "400 acks not reached within 60 s; collector log:\n\(child.logTail())")
        #expect(failures.withLock { $0 }.isEmpty, "collector log:\n\(child.logTail())")
        try await blocking { child.kill9() }
        stop.withLock { $0 = true }
        try #require(await waitUntil(seconds: 30) { finished.withLock { $0 } == agentCount })
        let ackedSnapshots = acked.withLock { $0 }
        #expect(ackedSnapshots.values.map(\.count).reduce(0, +) >= 400)

        // The database opens (WAL recovery), is sound, and holds every acknowledged snapshot.
        let store = try CollectorStore(path: directory.path + "/leakwatch.sqlite", logger: .init(label: "check"))
        #expect(try store.integrityCheck() == "ok")
        for (index, sequences) in ackedSnapshots {
            let key = instances[index].map { String(format: "%02x", $0) }.joined()
            let stored = Set(try store.read { db in
                try Int64.fetchAll(db, sql: """
                    SELECT sample.sequence FROM sample JOIN processInstance ON processInstance.id = sample.instanceId
                    WHERE processInstance.instanceKey = ?
                    """, arguments: [key])
            })
            let missing = sequences.filter { !stored.contains(Int64($0)) }
            #expect(missing.isEmpty, "agent \(index): acknowledged but missing \(missing.prefix(10))")
        }
        try store.close()

        // A restarted collector serves the same data: Welcome tells each agent where to resume.
        let restarted = try await CollectorProcess(dataDirectory: directory.path, tokenFile: tokenFile)
        defer { restarted.process.stop(graceSeconds: 0) } // when a step below throws
        let newPort = restarted.port
        let welcome = try await blocking { try TestAgent(port: newPort, hostName: "crash-0", instanceID: instances[0]).welcome }
        #expect(welcome.lastAcknowledgedSequence >= ackedSnapshots[0]?.max() ?? 0)
        try await blocking { restarted.process.stop(graceSeconds: 10) }
        #expect(restarted.process.terminationStatus == 0)
        let log = try String(contentsOfFile: restarted.logPath, encoding: .utf8)
        #expect(log.contains("collector stopped"))
    }
}
