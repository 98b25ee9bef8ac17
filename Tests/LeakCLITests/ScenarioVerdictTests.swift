import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// The golden tests seed verdicts through the storage layer; this one lets the collector's own
/// verdict engine judge seeded series, so the whole path (protocol → store → engine → query →
/// cli) is exercised once with nothing written by hand.
@Suite("collector-cli with verdicts from the collector's engine")
struct ScenarioVerdictTests {
    // 12 h at a 2-minute interval: enough 10-minute buckets (3 points each at least) past the
    // engine's 1 h grace period for its 3 h, 6 h and 12 h trend windows.
    @Test("a leaking host ranks first and its report names the leaking site; a flat host is not flagged")
    func engineVerdicts() async throws {
        try await TestCollector.start { $0.staleAfterSeconds = 1e12 }.use { collector in
            let hour = FleetScenario.hour, mib = FleetScenario.mib
            let plans = [
                FleetScenario.HostPlan(
                    host: "leaky-1", service: "checkout", start: FleetScenario.now - 12 * hour, end: FleetScenario.now - FleetScenario.minute,
                    step: 2 * FleetScenario.minute, restartAt: nil,
                    heap: { h, i in 200 * mib + UInt64(h * 8 * Double(mib)) + UInt64((i * 7) % 5) * mib },
                    sessionBytes: { h in UInt64(h * 8 * Double(mib)) + mib }, events: false),
                FleetScenario.HostPlan(
                    host: "flat-1", service: "checkout", start: FleetScenario.now - 12 * hour, end: FleetScenario.now - FleetScenario.minute,
                    step: 2 * FleetScenario.minute, restartAt: nil,
                    heap: { _, i in 200 * mib + UInt64((i * 7) % 5) * mib }, sessionBytes: { _ in 3 * mib }, events: false),
            ]
            let port = collector.port
            try await blocking { try FleetScenario.seed(port: port, plans: plans) }
            let evaluated = try collector.collector.maintenance.evaluateVerdicts()
            #expect(evaluated == 2)

            let hosts = try await collector.run(["hosts", "--format", "json"])
            #expect(hosts.exitCode == 0, "stderr: \(hosts.standardError)")
            let array = try #require(try JSONSerialization.jsonObject(with: Data(hosts.standardOutput)) as? [[String: Any]])
            #expect(array.map { $0["host"] as? String } == ["leaky-1", "flat-1"])
            let leakyStatus = array[0]["status"] as? String
            #expect(leakyStatus == "suspected-leak" || leakyStatus == "growing", "\(array[0])")
            #expect(array[1]["status"] as? String == "ok", "\(array[1])")
            let rate = try #require(array[0]["rateBytesPerHour"] as? Int)
            #expect((6 << 20)...(10 << 20) ~= rate, "rate \(rate) B/h, seeded 8 MiB/h")

            let report = try await collector.run(["report", "--host", "leaky-1"])
            #expect(report.exitCode == 0)
            let firstLine = report.text.split(separator: "\n").first.map(String.init) ?? ""
            #expect(firstLine.hasPrefix("leaky-1  SUSPECTED LEAK") || firstLine.hasPrefix("leaky-1  GROWING"), "\(firstLine)")
            // The growing site, with its frames and type, is in the report.
            let growing = report.text.components(separatedBy: "Growing sites").last ?? ""
            #expect(growing.contains("type Checkout.Session"), "\(report.text)")
            #expect(growing.contains("Checkout.SessionCache.insert(_:)"))
        }
    }
}
