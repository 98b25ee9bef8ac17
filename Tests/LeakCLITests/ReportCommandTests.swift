import Foundation
import LeakCLI
import Testing

@Suite("collector-cli report against a real collector")
struct ReportCommandTests {
    @Test("text report: verdict first, memory, chart with restart, growing site with stack and type, sizes, events")
    func goldenText() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["report", "--host", "web-3", "--since", "6h"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.standardError.isEmpty)
            let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.first?.hasPrefix("web-3  SUSPECTED LEAK  +20.0 MiB/h since 2026-03-02 06:00 UTC (6h ago)") == true)
            #expect(result.text.contains("Checkout.SessionCache.insert(_:) (SessionCache.swift:42)"))
            #expect(result.text.contains("type Checkout.Session"))
            #expect(result.text.contains("^ process restart"))
            for line in lines { #expect(line.count <= 100, "line too wide (\(line.count)): \(line)") }
            #expect(!result.text.contains("\u{1B}["), "no colour when not a terminal")
            Golden.check(result.text, matches: Golden.reportWeb3, name: "reportWeb3")
        }
    }

    @Test("JSON report has the documented shape")
    func jsonShape() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["report", "--host", "web-3", "--since", "6h", "--format", "json"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
            #expect(Set(object.keys) == [
                "schemaVersion", "host", "service", "generatedAt", "windowStart", "verdict", "latest", "series", "restarts",
                "growingSites", "sites", "topSizes", "sizeClasses", "events", "memoryErrors",
            ])
            #expect(object["schemaVersion"] as? Int == 1)
            #expect(object["host"] as? String == "web-3")
            #expect(object["service"] as? String == "checkout")
            #expect(object["generatedAt"] as? String == "2026-03-02T12:00:00Z")
            #expect(object["windowStart"] as? String == "2026-03-02T06:00:00Z")
            let verdict = try #require(object["verdict"] as? [String: Any])
            #expect(verdict["status"] as? String == "suspected-leak")
            #expect(verdict["rateBytesPerHour"] as? Int == 20_971_520)
            #expect(verdict["since"] as? String == "2026-03-02T06:00:00Z")
            #expect(verdict["confidence"] as? Double == 0.97)
            let latest = try #require(object["latest"] as? [String: Any])
            for key in ["time", "currentBytes", "peakBytes", "rssBytes", "totalAllocatedBytes", "allocationCount", "freeCount",
                        "blocksOutstanding", "uptimeSeconds"] {
                #expect(latest[key] != nil, "latest.\(key) missing")
            }
            #expect(latest["time"] as? String == "2026-03-02T11:55:00Z")
            let restarts = try #require(object["restarts"] as? [String])
            #expect(restarts == ["2026-03-02T09:00:00Z"])
            let series = try #require(object["series"] as? [[String: Any]])
            #expect(series.count == 72)
            #expect(Set(series[0].keys) == ["time", "currentBytes", "rssBytes", "processInstance"])
            let sites = try #require(object["sites"] as? [[String: Any]])
            #expect(sites.count == 3)
            let session = try #require(sites.first { ($0["typeName"] as? String) == "Checkout.Session" })
            #expect(Set(session.keys) == ["stackId", "status", "rateBytesPerHour", "liveBytes", "liveObjects", "allocatedBytes",
                                          "typeName", "frames"])
            #expect(session["status"] as? String == "suspected-leak")
            let frames = try #require(session["frames"] as? [[String: Any]])
            #expect(frames[1]["function"] as? String == "Checkout.SessionCache.insert(_:)")
            #expect(frames[1]["line"] as? Int == 42)
            #expect(Set(frames[1].keys) == ["function", "file", "line", "image", "address", "inlined"])
            #expect((object["growingSites"] as? [Int]) == [session["stackId"] as! Int])
            let events = try #require(object["events"] as? [[String: Any]])
            #expect(Set(events.compactMap { $0["kind"] as? String }) == ["threshold-warning", "snapshots-dropped"])
            let sizes = try #require(object["topSizes"] as? [[String: Any]])
            #expect(sizes.contains { $0["sizeBytes"] as? Int == 48 })
            Golden.check(result.text, matches: Golden.reportWeb3JSON, name: "reportWeb3JSON")
        }
    }

    @Test("colour only on a terminal, never with NO_COLOR")
    func colour() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let terminal = try await collector.run(["report", "--host", "web-3"], context: collector.context(terminal: true))
            #expect(terminal.exitCode == 0)
            #expect(terminal.text.contains("\u{1B}[1;31mSUSPECTED LEAK\u{1B}[0m"))
            let noColour = try await collector.run(
                ["report", "--host", "web-3"], context: collector.context(terminal: true, environment: ["NO_COLOR": "1"]))
            #expect(noColour.exitCode == 0)
            #expect(!noColour.text.contains("\u{1B}["))
            // Same content once the escapes are removed.
            let stripped = terminal.text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
            #expect(stripped == noColour.text)
        }
    }

    @Test("a host with a steady heap reports OK and lists its largest sites")
    func okHost() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["report", "--host", "web-1"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.hasPrefix("web-1  OK  no sustained growth, confidence 90%\n"))
            #expect(result.text.contains("none of 3 sampled sites is growing; the largest live sites:"))
            #expect(!result.text.contains("^ process restart"))
        }
    }

    @Test("a host without a verdict says so, it does not pretend to be OK")
    func unknownVerdict() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["report", "--host", "db-1", "--format", "json"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
            #expect((object["verdict"] as? [String: Any])?["status"] as? String == "not-enough-data")
            #expect((object["verdict"] as? [String: Any])?["since"] is NSNull)
        }
    }
}
