import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

@Suite("collector-cli sites against a real collector")
struct SitesCommandTests {
    @Test("text: every site, fastest growing first, with frames")
    func goldenText() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["sites", "--host", "web-3", "--frames", "2"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.contains("3 sampled allocation sites"))
            let lines = result.text.split(separator: "\n").map(String.init)
            #expect(lines[1].contains("SUSPECTED LEAK") && lines[1].contains("type Checkout.Session"))
            #expect(result.text.contains("NIOCore.ByteBufferAllocator.buffer(capacity:) (ByteBuffer-core.swift:221)"))
            // The decoder stack starts in a library without source: text starts at the app's frame.
            #expect(!result.text.contains("JSONDecoder"))
            #expect(result.text.contains("… 1 allocator and runtime frame\n        at Checkout.CartParser.parse(_:) (CartParser.swift:19)"))
            let all = try await collector.run(["sites", "--host", "web-3", "--frames", "2", "--runtime-frames"])
            #expect(all.text.contains("at Foundation.JSONDecoder.decode<A>(_:from:) (libFoundation.so)\n"
                + "        at Checkout.CartParser.parse(_:) (CartParser.swift:19)"))
            for line in lines { #expect(line.count <= 100, "line too wide: \(line)") }
            Golden.check(result.text, matches: Golden.sitesWeb3, name: "sitesWeb3")
        }
    }

    @Test("JSON: schemaVersion, host, sites with frames")
    func jsonShape() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["sites", "--host", "web-3", "--format", "json", "--since", "6h"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any])
            #expect(Set(object.keys) == ["schemaVersion", "host", "windowStart", "sites"])
            let sites = try #require(object["sites"] as? [[String: Any]])
            #expect(sites.count == 3)
            #expect(sites[0]["typeName"] as? String == "Checkout.Session")
            #expect(sites[0]["status"] as? String == "suspected-leak")
            #expect(sites[1]["typeName"] is NSNull)
            let liveBytes = sites.compactMap { $0["liveBytes"] as? Int }
            #expect(liveBytes.count == 3 && liveBytes.contains(32 << 20) && liveBytes.contains(4 << 20))
        }
    }

    @Test("a host with no sampled site is 'no data yet' (exit 4)")
    func noSites() async throws {
        try await TestCollector.start().use { collector in
            let port = collector.port
            try await blocking {
                let agent = try SeedAgent(port: port, host: "quiet-1", service: "batch", instance: 9, pid: 9, startNanos: FleetScenario.now)
                try agent.send(FleetScenario.bareSnapshot(sequence: 1, time: FleetScenario.now - FleetScenario.minute))
                agent.close()
            }
            let result = try await collector.run(["sites", "--host", "quiet-1"])
            #expect(result.exitCode == CLIExitCode.noData, "stderr: \(result.standardError)")
            #expect(result.standardError.contains("no sampled allocation site"))
            // The same host's report works: the host is known and has data.
            let report = try await collector.run(["report", "--host", "quiet-1"])
            #expect(report.exitCode == 0, "stderr: \(report.standardError)")
            #expect(report.text.hasPrefix("quiet-1  NOT ENOUGH DATA"))
        }
    }
}
