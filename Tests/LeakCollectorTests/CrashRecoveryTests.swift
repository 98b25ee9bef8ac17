import Foundation
import LeakCollector
import LeakCollectorTestSupport
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

    /// `configuration`: keys of a configuration file (collector/collector.example.json), written
    /// beside the database and passed with `--config`.
    init(dataDirectory: String, tokenFile: String, configuration: [String: any Sendable] = [:]) async throws {
        let executable = try BuiltProducts.executable("collector")
        logPath = dataDirectory + "/collector-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = executable
        process.arguments = ["--listen", "127.0.0.1:0", "--data", dataDirectory, "--token-file", tokenFile]
        if !configuration.isEmpty {
            let path = dataDirectory + "/collector-\(UUID().uuidString.prefix(6)).json"
            try JSONSerialization.data(withJSONObject: configuration).write(to: URL(fileURLWithPath: path))
            process.arguments! += ["--config", path]
        }
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

    /// The whole log so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// `GET /metrics` of a collector started with `metricsListen`, by sample: "name{labels}" -> value.
    func metricsSamples() async throws -> [String: Double] {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("serving metrics") }),
              let range = line.range(of: #":(\d+) "#, options: .regularExpression),
              let port = Int(line[range].dropFirst().dropLast()) else { throw TestFailure("no metrics port in the log") }
        let scrape = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/curl"), ["--silent", "--fail", "http://127.0.0.1:\(port)/metrics"])
        var samples: [String: Double] = [:]
        for line in scrape.standardOutput.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// Resident memory now and at its peak (VmRSS, VmHWM of /proc/PID/status), in bytes.
    func residentBytes() -> (now: Int, peak: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        else { return nil }
        func field(_ name: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
                  let kilobytes = Int(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
            else { return nil }
            return kilobytes * 1024
        }
        guard let now = field("VmRSS"), let peak = field("VmHWM") else { return nil }
        return (now, peak)
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct CrashRecoveryTests {
    /// Issue 15, item 6: several kill -9 rounds on one database, each while four agents stream
    /// with acks outstanding; after each, WAL recovery yields a sound database holding every
    /// snapshot ever acknowledged, and the next collector tells each agent where to resume.
    @Test(.timeLimit(.minutes(5))) func killDashNineDuringIngestLosesNoAcknowledgedSnapshot() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = directory.path + "/token"
        try Data(testToken).write(to: URL(fileURLWithPath: tokenFile))

        let rounds = 5
        let agentCount = 4
        let instances = (0..<agentCount).map { _ in randomInstanceID() }
        // Every sequence acknowledged in any round, per agent.
        var everAcked = [Int: [UInt64]]()
        for round in 0..<rounds {
            let child = try await CollectorProcess(dataDirectory: directory.path, tokenFile: tokenFile)
            defer { child.process.stop(graceSeconds: 0) } // when a step below throws
            let acked = try await streamUntilKilled(child, instances: instances, acks: 200, round: round)
            for (index, sequences) in acked { everAcked[index, default: []] += sequences }
            let inRound = acked.values.map(\.count).reduce(0, +)
            let total = everAcked.values.map(\.count).reduce(0, +)
            print("kill -9 round \(round): \(inRound) snapshots acknowledged before the kill, \(total) in all")

            // The database opens (WAL recovery), is sound, and holds every acknowledged snapshot.
            let store = try SQLiteStore(path: directory.path + "/leakwatch.sqlite", logger: .init(label: "check"))
            #expect(try store.integrityCheck() == "ok", "round \(round)")
            for (index, sequences) in everAcked {
                let key = instances[index].map { String(format: "%02x", $0) }.joined()
                let stored = Set(try store.read { db in
                    try Int64.fetchAll(db, sql: """
                        SELECT sample.sequence FROM sample JOIN processInstance ON processInstance.id = sample.instanceId
                        WHERE processInstance.instanceKey = ?
                        """, arguments: [key])
                })
                let missing = sequences.filter { !stored.contains(Int64($0)) }
                #expect(missing.isEmpty, "round \(round), agent \(index): acknowledged but missing \(missing.prefix(10))")
            }
            try store.close()
        }
        #expect(everAcked.values.map(\.count).reduce(0, +) >= rounds * 200)

        // A restarted collector serves the same data: Welcome tells each agent where to resume.
        let restarted = try await CollectorProcess(dataDirectory: directory.path, tokenFile: tokenFile)
        defer { restarted.process.stop(graceSeconds: 0) } // when a step below throws
        let newPort = restarted.port
        let welcome = try await blocking { try TestAgent(port: newPort, hostName: "crash-0", instanceID: instances[0]).welcome }
        #expect(welcome.lastAcknowledgedSequence >= everAcked[0]?.max() ?? 0)
        try await blocking { restarted.process.stop(graceSeconds: 10) }
        #expect(restarted.process.terminationStatus == 0)
        let log = try String(contentsOfFile: restarted.logPath, encoding: .utf8)
        #expect(log.contains("collector stopped"))
    }

    /// Agents (one per instance) resume where Welcome says, stream snapshots 16 at a time as fast
    /// as acks allow, and record each acked sequence; once `acks` are in, the collector is killed
    /// with SIGKILL, snapshots still in flight. The sequences acked, per agent.
    private func streamUntilKilled(
        _ child: CollectorProcess, instances: [[UInt8]], acks: Int, round: Int
    ) async throws -> [Int: [UInt64]] {
        let port = child.port
        let stop = Locked(false)
        let acked = Locked([Int: [UInt64]]())
        let failures = Locked([String]())
        let finished = Locked(0)
        // Threads, not tasks: a task could wait for the concurrency pool, which other tests'
        // blocking work can hold for longer than this test's deadline.
        for index in instances.indices {
            Thread.detachNewThread {
                defer { finished.withLock { $0 += 1 } }
                do {
                    let agent = try TestAgent(port: port, hostName: "crash-\(index)", instanceID: instances[index])
                    var sequence = agent.welcome.lastAcknowledgedSequence
                    var first = true
                    while !stop.withLock({ $0 }) {
                        for _ in 0..<16 {
                            sequence += 1
                            // Stamped now: the collector's retention pass (its first comes 30 s after
                            // start) would otherwise roll the raw rows of a past date up.
                            let now = Int64(Date().timeIntervalSince1970 * 1e9)
                            try agent.send(makeSnapshot(sequence: sequence, timestampNanos: now, siteCount: 10,
                                                        defineStacks: first))
                            first = false
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
            acked.withLock { $0.values.map(\.count).reduce(0, +) } >= acks || !failures.withLock(\.isEmpty)
        }
        #expect(streamed, "round \(round): \(acks) acks not reached within 60 s; collector log:\n\(child.logTail())")
        #expect(failures.withLock { $0 }.isEmpty, "round \(round): \(failures.withLock { $0 })\n\(child.logTail())")
        try await blocking { child.kill9() }
        stop.withLock { $0 = true }
        try #require(await waitUntil(seconds: 30) { finished.withLock { $0 } == instances.count })
        return acked.withLock { $0 }
    }
}
