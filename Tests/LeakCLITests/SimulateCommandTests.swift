import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

@Suite("collector-cli simulate: CSV series replayed through the real protocol")
struct SimulateCommandTests {
    /// docs/examples/simulate in this repository.
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/examples/simulate").path

    @Test("the example files replay as hosts; the collector's verdicts flag web-3 and its site, not web-1 (gzipped)")
    func replayExamples() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            // web-1 gzipped, to read both forms.
            let plain = try Data(contentsOf: URL(fileURLWithPath: Self.examples + "/web-1.csv"))
            try Data(Gzip.compress(Array(plain))).write(to: URL(fileURLWithPath: collector.directory.path + "/web-1.csv.gz"))

            let arguments = ["simulate", Self.examples + "/web-3.csv", "web-1.csv.gz",
                             "--sites", "web-3=" + Self.examples + "/web-3.sites.csv", "--service", "checkout"]
            let result = try await collector.run(arguments)
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.contains("web-3                      361 snapshots, 2 process instances"), "\(result.text)")
            #expect(result.text.contains("web-1                      346 snapshots, 1 process instance,"), "\(result.text)")
            #expect(result.text.contains("replayed 707 snapshots of 2 hosts"))
            #expect(result.text.contains("times from 2026-03-02T00:00:00Z"), "the longest series ends at the context's now")

            #expect(try collector.collector.maintenance.evaluateVerdicts() == 2)
            let hosts = try await collector.run(["hosts", "--format", "json"])
            let array = try #require(try JSONSerialization.jsonObject(with: Data(hosts.standardOutput)) as? [[String: Any]])
            #expect(array.map { $0["host"] as? String } == ["web-3", "web-1"])
            #expect(["suspected-leak", "growing"].contains(array[0]["status"] as? String ?? ""), "\(array[0])")
            #expect(array[1]["status"] as? String == "ok", "\(array[1])")
            #expect(array[0]["lastSeen"] as? String == "2026-03-02T12:00:00Z")

            let report = try await collector.run(["report", "--host", "web-3", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput)) as? [String: Any])
            #expect((object["restarts"] as? [String]) == ["2026-03-02T08:00:00Z"])
            let sites = try #require(object["sites"] as? [[String: Any]])
            let growing = try #require(object["growingSites"] as? [Int])
            let named = sites.filter { growing.contains($0["stackId"] as! Int) }
                .compactMap { (($0["frames"] as? [[String: Any]])?.first?["function"]) as? String }
            #expect(named == ["SessionCache.insert(_:)"])

            // A second replay of the same files is recognised (same instances, same sequences): no
            // duplicate points.
            let again = try await collector.run(arguments)
            #expect(again.exitCode == 0)
            let reportAgain = try await collector.run(["report", "--host", "web-3", "--format", "json"])
            let objectAgain = try #require(try JSONSerialization.jsonObject(with: Data(reportAgain.standardOutput)) as? [String: Any])
            #expect((objectAgain["series"] as? [Any])?.count == (object["series"] as? [Any])?.count)
            #expect((object["series"] as? [Any])?.count == 361)
        }
    }

    @Test("web-3 cut before its restart (one process, 8 h, leaking 6 MiB/h) is a suspected leak naming its site")
    func singleProcessLeak() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            // A single-process leak is the common case; it once stayed "not enough data" for a day
            // because request noise in the allocation rate read as a traffic cycle.
            func cut(_ name: String) throws -> String {
                let text = try String(contentsOfFile: Self.examples + "/" + name, encoding: .utf8)
                let lines = text.split(separator: "\n").enumerated().filter { index, line in
                    index == 0 || (Double(line.split(separator: ",")[0]) ?? .infinity) < 8 * 3600
                }
                let path = collector.directory.path + "/" + name
                try (lines.map { String($0.1) }.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let host = try cut("web-3.csv")
            let sites = try cut("web-3.sites.csv")
            let result = try await collector.run(["simulate", host, "--sites", "web-3=" + sites])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.contains("1 process instance,"), "\(result.text)")
            #expect(try collector.collector.maintenance.evaluateVerdicts() == 1)

            let report = try await collector.run(["report", "--host", "web-3", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput)) as? [String: Any])
            let verdict = try #require(object["verdict"] as? [String: Any])
            #expect(verdict["status"] as? String == "suspected-leak", "\(verdict)")
            let explanation = verdict["explanation"] as? String ?? ""
            #expect(explanation.hasPrefix("sustained growth over ") && explanation.contains("trend score"), "\(explanation)")
            let rate = try #require(verdict["rateBytesPerHour"] as? Int)
            #expect((3 << 20)...(9 << 20) ~= rate, "rate \(rate) B/h; the file leaks about 6 MiB/h")
            let growing = try #require(object["growingSites"] as? [Int])
            let named = try #require(object["sites"] as? [[String: Any]]).filter { growing.contains($0["stackId"] as! Int) }
                .compactMap { (($0["frames"] as? [[String: Any]])?.first?["function"]) as? String }
            #expect(named == ["SessionCache.insert(_:)"])
        }
    }

    @Test("a host with too little data says how much more it needs, in report and hosts, never ok")
    func notEnoughData() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            let path = collector.directory.path + "/young-1.csv"
            var rows = ["t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid"]
            for step in 0..<60 { rows.append("\(step * 60),\(100_000_000 + step % 3),200000000,\(step * 1000),\(step * 900),7") }
            try (rows.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await collector.run(["simulate", path])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(try collector.collector.maintenance.evaluateVerdicts() == 1)

            let report = try await collector.run(["report", "--host", "young-1"])
            let firstLine = report.text.split(separator: "\n").first.map(String.init) ?? ""
            // One hour of data: the grace hour is over, the shortest window (3 h) is still to come.
            #expect(firstLine.hasPrefix("young-1  NOT ENOUGH DATA  needs about 3h "), "\(report.text)")
            #expect(firstLine.hasSuffix("m more"), "\(report.text)")
            let hosts = try await collector.run(["hosts", "--format", "json"])
            let array = try #require(try JSONSerialization.jsonObject(with: Data(hosts.standardOutput)) as? [[String: Any]])
            #expect(array.first?["status"] as? String == "not-enough-data", "\(array)")
            let text = try await collector.run(["hosts"])
            #expect(text.text.contains("1 host, 1 not enough data"), "\(text.text)")
        }
    }

    @Test("--speed paces the replay on the series' own clock; --start and --host are honoured")
    func speedAndStart() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            let path = collector.directory.path + "/anything.csv"
            try """
                t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid
                0,1000,2000,10,5,1
                30,1100,2100,20,10,1

                60,1200,2200,30,15,2
                """.write(toFile: path, atomically: true, encoding: .utf8)
            let began = Date()
            let result = try await collector.run(["simulate", path, "--host", "paced-1", "--speed", "60",
                                                  "--start", "2026-01-01T00:00:00Z"])
            let elapsed = Date().timeIntervalSince(began)
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(elapsed >= 0.9, "60 s of series at 60× takes about 1 s, took \(elapsed) s")
            #expect(result.text.contains("paced-1"))
            let report = try await collector.run(["report", "--host", "paced-1", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput)) as? [String: Any])
            #expect((object["latest"] as? [String: Any])?["time"] as? String == "2026-01-01T00:01:00Z")
            #expect((object["restarts"] as? [String]) == ["2026-01-01T00:01:00Z"])
        }
    }

    @Test("bad CSV is exit 2 with file and line, and nothing reaches the collector", arguments: [
        ("t,heap,rss,alloc,free,pid\n0,1,2,3,4,5\n", ":1: the header must be"),
        ("t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid\n0,1,2,3,4,5\n10,lots,2,3,4,5\n", ":3: heap_bytes 'lots' is not a valid number"),
        ("t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid\n0,1,2,3,4,5\n10,1,2,3,4\n", ":3: expected 6 fields"),
        ("t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid\n10,1,2,3,4,5\n5,1,2,3,4,5\n", ":3: t_seconds 5.0 does not increase"),
        ("t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid\n", "no rows after the header"),
        ("", "empty file"),
    ])
    func badCSV(content: String, message: String) async throws {
        try await TestCollector.start().use { collector in
            let path = collector.directory.path + "/bad-1.csv"
            try content.write(toFile: path, atomically: true, encoding: .utf8)
            let good = collector.directory.path + "/good-1.csv"
            try "t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid\n0,1,2,3,4,5\n".write(toFile: good, atomically: true, encoding: .utf8)
            let result = try await collector.run(["simulate", good, path])
            #expect(result.exitCode == CLIExitCode.badArguments)
            #expect(result.standardError.contains(path), "\(result.standardError)")
            #expect(result.standardError.contains(message), "\(result.standardError)")
            let hosts = try await collector.run(["hosts"])
            #expect(hosts.exitCode == CLIExitCode.noData, "files are all read before anything is sent")
        }
    }

    @Test("site files: bad pairing and bad rows are exit 2")
    func badSites() async throws {
        try await TestCollector.start().use { collector in
            let host = Self.examples + "/web-1.csv"
            let sites = collector.directory.path + "/sites.csv"
            try "t_seconds,site_id,live_bytes\n0,a,lots\n".write(toFile: sites, atomically: true, encoding: .utf8)
            let badRow = try await collector.run(["simulate", host, "--sites", sites])
            #expect(badRow.exitCode == CLIExitCode.badArguments)
            #expect(badRow.standardError.contains("sites.csv:2: live_bytes 'lots'"))
            let noHost = try await collector.run(["simulate", host, "--sites", "web-9=" + sites])
            #expect(noHost.exitCode == CLIExitCode.badArguments)
            #expect(noHost.standardError.contains("no host file for 'web-9'"))
            let missing = try await collector.run(["simulate", collector.directory.path + "/absent.csv"])
            #expect(missing.exitCode == CLIExitCode.badArguments)
            #expect(missing.standardError.contains("cannot read"))
        }
    }

    @Test("unreachable collector is exit 5, a wrong token exit 6")
    func connectionErrors() async throws {
        try await TestCollector.start().use { collector in
            let host = Self.examples + "/web-1.csv"
            let port = try closedPort()
            let unreachable = try await collector.run(["simulate", host, "--collector", "127.0.0.1:\(port)"])
            #expect(unreachable.exitCode == CLIExitCode.collectorUnreachable, "\(unreachable.standardError)")
            let refused = try await collector.run(["simulate", host], context: collector.context(environment: ["LEAKWATCH_TOKEN": "wrong"]))
            #expect(refused.exitCode == CLIExitCode.authenticationRefused, "\(refused.standardError)")
        }
    }
}
