import Foundation
import LeakCLI
import LeakTestSupport
import Testing

/// The seeded web-3 (FleetScenario): its session site grows 20 MiB/h in each process instance
/// (restarted 3 h before now), the buffer and decoder sites stay flat.
@Suite("collector-cli diff and export --base")
struct DiffCommandTests {
    static let mib = FleetScenario.mib
    static let hour = FleetScenario.hour
    static let now = FleetScenario.now

    /// The session site's live bytes in the snapshot `hoursInInstance` into its process instance.
    static func sessionBytes(hoursInInstance: Double) -> Int {
        Int(FleetScenario.plans[0].sessionBytes(hoursInInstance))
    }

    /// Base now-2h (1 h into the second instance) against the newest snapshot, now-5min.
    static var growthSinceTwoHours: Int {
        sessionBytes(hoursInInstance: 2 + 55.0 / 60) - sessionBytes(hoursInInstance: 1)
    }

    static func json(_ invocation: CollectorCLI.Invocation) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(invocation.standardOutput)) as? [String: Any])
    }

    @Test("--from 2h: only the growing site, its change and both snapshots' times, in JSON")
    func relativeBaseJSON() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["diff", "--host", "web-3", "--from", "2h", "--format", "json"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            let object = try Self.json(result)
            #expect(object["from"] as? String == Units.rfc3339(unixNanos: Self.now - 2 * Self.hour))
            #expect(object["to"] as? String == Units.rfc3339(unixNanos: Self.now - 5 * FleetScenario.minute))
            let sites = try #require(object["sites"] as? [[String: Any]])
            #expect(sites.count == 1, "the flat buffer and decoder sites are left out")
            let session = try #require(sites.first)
            #expect(session["deltaBytes"] as? Int == Self.growthSinceTwoHours)
            #expect(session["fromLiveBytes"] as? Int == Self.sessionBytes(hoursInInstance: 1))
            #expect(session["typeName"] as? String == "Checkout.Session")
            let frames = try #require(session["frames"] as? [[String: Any]])
            #expect(frames.map { $0["function"] as? String }.contains("Checkout.SessionCache.insert(_:)"))
            #expect(object["deltaBytes"] as? Int == Self.growthSinceTwoHours)
        }
    }

    @Test("RFC 3339 times name the same snapshots as durations back from now")
    func absoluteTimes() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let relative = try await collector.run(["diff", "--host", "web-3", "--from", "2h", "--format", "json"])
            let absolute = try await collector.run([
                "diff", "--host", "web-3", "--from", "2026-03-02T10:00:00Z", "--to", "2026-03-02T13:00:00+01:00", "--format", "json",
            ])
            #expect(absolute.exitCode == 0, "stderr: \(absolute.standardError)")
            #expect(absolute.text == relative.text)
        }
    }

    @Test("across the restart the site shrank: a negative change, listed after growth")
    func shrinkingAcrossRestart() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["diff", "--host", "web-3", "--from", "3h5m", "--to", "2h", "--format", "json"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            let sites = try #require(try Self.json(result)["sites"] as? [[String: Any]])
            #expect(sites.map { $0["deltaBytes"] as? Int } == [
                Self.sessionBytes(hoursInInstance: 1) - Self.sessionBytes(hoursInInstance: 2 + 55.0 / 60),
            ])
        }
    }

    @Test("text: the span, the totals, the site with its change and frames down to the application's")
    func text() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["diff", "--host", "web-3", "--from", "2h"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            let lines = result.text.split(separator: "\n").map(String.init)
            #expect(lines.first == "web-3  2026-03-02T10:00:00Z → 2026-03-02T11:55:00Z (1h 55m)")
            let growth = "+" + Units.bytes(Self.growthSinceTwoHours)
            #expect(lines[1] == "\(growth) in 1 growing site, largest growth first")
            #expect(lines[2].hasPrefix("  1. ") && lines[2].contains(growth))
            #expect(lines[2].contains("live " + Units.bytes(Self.sessionBytes(hoursInInstance: 1)) + " → "))
            #expect(lines.contains("        at Checkout.SessionCache.insert(_:) (SessionCache.swift:42)"))
        }
    }

    @Test("bad times, a reversed range and an unknown host are refused with what to do")
    func refusals() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let badTime = try await collector.run(["diff", "--host", "web-3", "--from", "yesterday"])
            #expect(badTime.exitCode == CLIExitCode.badArguments)
            #expect(badTime.standardError.contains("RFC 3339"))
            let reversed = try await collector.run(["diff", "--host", "web-3", "--from", "1h", "--to", "2h"])
            #expect(reversed.exitCode == CLIExitCode.badArguments)
            #expect(reversed.standardError.contains("before --from"))
            let unknown = try await collector.run(["diff", "--host", "web-33", "--from", "1h"])
            #expect(unknown.exitCode == CLIExitCode.unknownHost)
            #expect(unknown.standardError.contains("web-3"))
        }
    }

    @Test("export --base writes the change as pprof: two sample types, the growth as the value")
    func pprofDifference() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run([
                "export", "--host", "web-3", "--format", "pprof", "--base", "2h", "--output", "growth.pb.gz",
            ])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.hasPrefix("wrote growth.pb.gz: 1 changed site since 2026-03-02T10:00:00Z"))
            let path = collector.directory.path + "/growth.pb.gz"
            let bytes = try #require(FileManager.default.contents(atPath: path))
            let profile = try Perftools_Profiles_Profile(serializedBytes: try Gzip.decompress(Array(bytes)))
            func name(_ index: Int64) -> String { profile.stringTable[Int(index)] }
            #expect(profile.sampleType.map { name($0.type) } == ["inuse_space", "inuse_objects"])
            #expect(profile.sample.map(\.value) == [[Int64(Self.growthSinceTwoHours), Int64(Self.growthSinceTwoHours / 512)]])
            #expect(profile.durationNanos == 2 * Self.hour - 5 * FleetScenario.minute)

            // go tool pprof reads it (Debian's golang-go; .ci/run installs it).
            guard let go = ["/usr/bin/go", "/usr/lib/go/bin/go"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
                return
            }
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let top = try await ChildProcess.run(
                URL(fileURLWithPath: go), ["tool", "pprof", "-top", "-sample_index=inuse_space", path],
                environment: ["HOME": scratch.path, "GOCACHE": scratch.path + "/cache", "PPROF_TMPDIR": scratch.path])
            #expect(top.status == 0, "\(top.summary)")
            #expect(top.standardOutput.contains("Checkout.SessionCache.insert(_:)"), "\(top.summary)")
            #expect(top.standardOutput.contains("Checkout.Session.__allocating_init(id:cart:)"), "\(top.summary)")
        }
    }
}
