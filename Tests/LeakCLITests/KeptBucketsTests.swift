import Foundation
import LeakAnalysis
import LeakCollector
import LeakCollectorTestSupport
import Testing

/// The verdict pass keeps each host's buckets and reads only what arrived since the last pass; its
/// verdicts must be the ones a fresh evaluation of everything stored gives (what a restarted
/// collector computes).
@Suite("Verdicts on kept buckets")
struct KeptBucketsTests {
    @Test("each pass equals a fresh evaluation of the store, through a restart of the process")
    func keptBucketsEqualAFreshEvaluation() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            let store = collector.collector.store
            var fresh = VerdictConfiguration()
            fresh.windowSeconds = CollectorConfiguration().verdictWindowSeconds
            let evaluator = VerdictEvaluator(configuration: fresh)
            var statuses: [String] = []
            // web-3 leaks in one process for 8 h, restarts, and leaks again: replayed in three
            // parts (the same instances and sequences continue), with a pass after each.
            for (part, hours) in [4.0, 8.5, 12.0].enumerated() {
                let host = try Self.cut("web-3.csv", hours: hours, into: collector.directory.path)
                let sites = try Self.cut("web-3.sites.csv", hours: hours, into: collector.directory.path)
                let result = try await collector.run(
                    ["simulate", host, "--sites", "web-3=" + sites, "--start", "2026-03-02T00:00:00Z"])
                #expect(result.exitCode == 0, "stderr: \(result.standardError)")
                #expect(try collector.collector.maintenance.evaluateVerdicts() == 1)
                let pass = try #require(collector.collector.maintenance.latestVerdictPass)
                #expect(pass.hostsEvaluated == 1 && pass.hostsKept == 1)
                #expect(pass.hostsSeeded == (part == 0 ? 1 : 0), "only the first pass reads the whole window")

                let record = try #require(try store.host(named: "web-3"))
                let kept = try #require(try store.latestVerdict(hostId: record.id))
                let window = try store.window(
                    host: record, fromMs: record.lastSeenMs - Int64(evaluator.readSpanSeconds * 1000), toMs: record.lastSeenMs)
                let recomputed = evaluator.evaluate(window, evaluatedAtMs: record.lastSeenMs)
                #expect(kept.status == recomputed.status, "after \(hours) h")
                #expect(kept.rateBytesPerHour == recomputed.rateBytesPerHour, "after \(hours) h")
                #expect(kept.summary == recomputed.summary, "after \(hours) h")
                #expect(kept.sites == recomputed.sites, "after \(hours) h")
                statuses.append(kept.status)
            }
            #expect(statuses.last == "suspectedLeak", "\(statuses)")
            // Nothing new: the host is not judged again.
            #expect(try collector.collector.maintenance.evaluateVerdicts() == 0)
        }
    }

    /// The first `hours` of an example file, written into `directory`.
    static func cut(_ name: String, hours: Double, into directory: String) throws -> String {
        let text = try String(contentsOfFile: SimulateCommandTests.examples + "/" + name, encoding: .utf8)
        let lines = text.split(separator: "\n").enumerated().filter { index, line in
            index == 0 || (Double(line.split(separator: ",")[0]) ?? .infinity) < hours * 3600
        }
        let path = directory + "/" + name
        try (lines.map { String($0.1) }.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
