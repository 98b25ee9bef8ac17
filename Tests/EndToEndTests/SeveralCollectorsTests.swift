import Foundation
import LeakTestSupport
import Testing

/// Several collectors on one PostgreSQL behind haproxy (collector/haproxy.cfg, as shipped), real
/// agents shipping through the balancer; one collector is killed with SIGKILL mid-stream.
@Suite(.serialized)
struct SeveralCollectorsTests {
    static let hosts = ["fleet-1", "fleet-2", "fleet-3", "fleet-4"]

    @Test(.timeLimit(.minutes(4)))
    func aCollectorKilledMidStreamLosesNoAcknowledgedSnapshotAndItsHostsKeepGettingVerdicts() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let work = scratch.url
        let database = try await TemporaryPostgres.shared.database()
        let token = "several-collectors-token"
        try token.write(to: work.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try """
        {"listen": "127.0.0.1:0", "store": "\(database)", "tokenFile": "token",
         "analysisTimeScale": 360, "verdictIntervalSeconds": 1, "staleAfterSeconds": 10}
        """.write(to: work.appendingPathComponent("collector.json"), atomically: true, encoding: .utf8)
        let children = ChildProcesses()
        defer { children.stopAll() }
        func startCollector(_ name: String) async throws -> (Process, Int) {
            let log = work.appendingPathComponent("\(name).log")
            let process = try children.start("collector", ["--config", work.appendingPathComponent("collector.json").path],
                                              environment: ["LOG_LEVEL": "info"], log: log)
            return (process, try await collectorPort(log: log, process: process))
        }
        let (first, firstPort) = try await startCollector("collector-1")
        let (_, secondPort) = try await startCollector("collector-2")

        // The shipped haproxy.cfg, its placeholder addresses replaced by this test's ports.
        let balancerPort = try freePort()
        let shipped = try String(contentsOf: ChildProcess.repositoryRoot.appendingPathComponent("collector/haproxy.cfg"), encoding: .utf8)
        let configuration = shipped
            .replacingOccurrences(of: "bind :7070", with: "bind 127.0.0.1:\(balancerPort)")
            .replacingOccurrences(of: "192.0.2.11:7070", with: "127.0.0.1:\(firstPort)")
            .replacingOccurrences(of: "192.0.2.12:7070", with: "127.0.0.1:\(secondPort)")
        #expect(configuration != shipped)
        try configuration.write(to: work.appendingPathComponent("haproxy.cfg"), atomically: true, encoding: .utf8)
        let haproxy = Process()
        haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        haproxy.arguments = ["-db", "-f", work.appendingPathComponent("haproxy.cfg").path]
        haproxy.standardOutput = FileHandle.nullDevice
        haproxy.standardError = try FileHandle(forWritingTo: work.appendingPathComponent("haproxy.log").creatingFile())
        try haproxy.run()
        defer { haproxy.stop(graceSeconds: 1) }

        var agents: [Process] = []
        for host in Self.hosts {
            agents.append(try children.start("leakwatch-demo-server", ["--leak", "--leak-bytes-per-second", "262144", "--seconds", "90"], environment: [
                "LEAKWATCH_COLLECTOR": "127.0.0.1:\(balancerPort)", "LEAKWATCH_TOKEN": token, "LEAKWATCH_HOST": host,
                "LEAKWATCH_SERVICE": "demo", "LEAKWATCH_INTERVAL": "0.25", "LEAKWATCH_SAMPLE_BYTES": "65536",
            ], log: work.appendingPathComponent("\(host).log")))
        }
        let sql = SQL(database: database)

        // Every host shipping and judged before the kill.
        let judged = await waitUntil(seconds: 60) {
            (try? sql.counts("SELECT h.name, count(v.id) FROM host h LEFT JOIN verdict v ON v.hostId = h.id GROUP BY h.name"))
                .map { counts in Self.hosts.allSatisfy { (counts[$0] ?? 0) > 0 } } ?? false
        }
        func logs() -> String {
            (["collector-1", "collector-2", "haproxy", "fleet-1"]).map { name in
                let text = (try? String(contentsOf: work.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
                return "--- \(name).log\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
            }.joined(separator: "\n")
        }
        let verdictCounts = try? sql.counts("SELECT h.name, count(v.id) FROM host h LEFT JOIN verdict v ON v.hostId = h.id GROUP BY h.name")
        try #require(judged, "every host had a verdict before the kill: \(verdictCounts ?? [:])\n\(logs())")
        let lastSeenAtKill = try sql.counts("SELECT name, lastSeenMs FROM host")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        // The survivor judges the dead collector's hosts too, from data shipped after the kill.
        let rejudged = await waitUntil(seconds: 60) {
            (try? sql.counts("SELECT h.name, max(v.evaluatedAtMs) FROM host h JOIN verdict v ON v.hostId = h.id GROUP BY h.name"))
                .map { newest in Self.hosts.allSatisfy { (newest[$0] ?? 0) > (lastSeenAtKill[$0] ?? 0) + 2_000 } } ?? false
        }
        #expect(rejudged, "every host got a verdict on snapshots shipped after the kill\n\(logs())")

        // No acknowledged snapshot was lost: the agents resent what was not acknowledged, so every
        // process instance holds every sequence from 1 to its last, once.
        let gaps = try sql.counts("""
            SELECT h.name, p.lastSequence - count(DISTINCT s.sequence) FROM processInstance p
            JOIN host h ON h.id = p.hostId JOIN sample s ON s.instanceId = p.id
            GROUP BY h.name, p.id, p.lastSequence
            """)
        #expect(Set(gaps.keys) == Set(Self.hosts))
        #expect(gaps.values.allSatisfy { $0 == 0 }, "sequences missing per host: \(gaps)")
        let duplicates = try sql.counts("SELECT 'all', count(*) - count(DISTINCT (instanceId, sequence)) FROM sample")
        #expect(duplicates["all"] == 0)

        // collector-cli answers the same through either collector: the survivor and a collector
        // started anew on the store, once the agents have stopped.
        for agent in agents { agent.stop(graceSeconds: 0) }
        let (_, restartedPort) = try await startCollector("collector-3")
        let cli = try BuiltProducts.executable("collector-cli")
        let tokenFile = work.appendingPathComponent("token").path
        // A report says when it was made: the one line that may differ.
        func stable(_ text: String) -> String { text.split(separator: "\n").filter { !$0.contains("\"generatedAt\"") }.joined(separator: "\n") }
        for arguments in [["hosts", "--format", "json"], ["report", "--host", "fleet-1", "--format", "json"]] {
            // Snapshots in flight when the agents stopped, and a verdict pass, may still land
            // between the two questions: the answers must agree once the store holds still.
            var answers: (survivor: ChildResult, restarted: ChildResult)?
            for _ in 0..<15 {
                let viaSurvivor = try await ChildProcess.run(cli, arguments + ["--collector", "127.0.0.1:\(secondPort)", "--token-file", tokenFile])
                let viaRestarted = try await ChildProcess.run(cli, arguments + ["--collector", "127.0.0.1:\(restartedPort)", "--token-file", tokenFile])
                answers = (viaSurvivor, viaRestarted)
                if stable(viaSurvivor.standardOutput) == stable(viaRestarted.standardOutput) { break }
                try await Task.sleep(for: .seconds(1))
            }
            let (viaSurvivor, viaRestarted) = try #require(answers)
            #expect(viaSurvivor.status == 0, "\(viaSurvivor.summary)")
            #expect(stable(viaSurvivor.standardOutput) == stable(viaRestarted.standardOutput), "\(arguments)")
            #expect(viaSurvivor.standardOutput.contains("fleet-1"))
        }
    }
}

/// Reads the shared store with psql: what is in the database, whichever collector wrote it.
private struct SQL {
    /// The database's postgres:// URL, which psql takes as it is.
    var database: String

    /// A two-column query's rows as name → number.
    func counts(_ query: String) throws -> [String: Int64] {
        let process = Process()
        process.executableURL = TemporaryPostgres.binaries.appendingPathComponent("psql")
        process.arguments = [database, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("psql failed on: \(query)") }
        var result: [String: Int64] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count == 2, let value = Int64(fields[1]) { result[String(fields[0])] = value }
        }
        return result
    }
}

private extension URL {
    func creatingFile() -> URL {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return self
    }
}
