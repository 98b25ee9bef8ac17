import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
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

    @Test("by default frames reach the application's first, an inlined one, below four library frames")
    func defaultFramesReachTheApplication() async throws {
        func frame(_ function: String, _ file: String, image: String, inlined: Bool = false) -> Leakwatch_V1_Frame {
            .with { $0.function = function; $0.file = file; $0.line = 7; $0.image = image; $0.address = 0x1000; $0.inlined = inlined }
        }
        let library = "libNIOCore.so", app = "cache-server"
        let stack: [Leakwatch_V1_Frame] = [
            frame("swift_allocObject", "", image: "libswiftCore.so"),
            frame("NIOCore.ByteBufferAllocator.buffer(capacity:)", "/build/nio/ByteBuffer-core.swift", image: library),
            frame("NIOCore.ByteBuffer._copyStorageAndRebase()", "/build/nio/ByteBuffer-core.swift", image: library),
            frame("NIOCore.ByteBuffer.writeBytes(_:)", "/build/nio/ByteBuffer-aux.swift", image: library),
            frame("NIOCore.ByteBuffer.writeString(_:)", "/build/nio/ByteBuffer-aux.swift", image: library),
            frame("Cache.LRUStore.put(_:_:)", "/src/Sources/Cache/LRUStore.swift", image: app, inlined: true),
            frame("Cache.Handler.channelRead(context:data:)", "/src/Sources/Cache/Handler.swift", image: app),
            frame("main", "/src/Sources/Cache/main.swift", image: app),
            frame("__libc_start_main", "", image: "libc.so.6"),
        ]
        try await TestCollector.start().use { collector in
            let port = collector.port
            try await blocking {
                let agent = try SeedAgent(port: port, host: "cache-1", service: "cache", instance: 5, pid: 5, startNanos: FleetScenario.now)
                var snapshot = FleetScenario.bareSnapshot(sequence: 1, time: FleetScenario.now - FleetScenario.minute)
                snapshot.stacks = [.with { $0.id = 1; $0.frames = stack }]
                snapshot.sites = [.with { $0.stackID = 1; $0.liveBytes = 1 << 20; $0.liveObjects = 16 }]
                try agent.send(snapshot)
                agent.close()
            }
            let result = try await collector.run(["sites", "--host", "cache-1"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.contains("        at NIOCore.ByteBuffer.writeString(_:) (ByteBuffer-aux.swift:7)\n"
                + "        at Cache.LRUStore.put(_:_:) (LRUStore.swift:7) [inlined]\n        … 3 more frames"), "\(result.text)")
            let json = try await collector.run(["sites", "--host", "cache-1", "--format", "json"])
            #expect(json.text.contains("\"function\": \"Cache.LRUStore.put(_:_:)\",\n"), "\(json.text)")
            #expect(json.text.components(separatedBy: "\"inlined\": true").count - 1 == 1, "\(json.text)")
            let three = try await collector.run(["sites", "--host", "cache-1", "--frames", "3"])
            #expect(!three.text.contains("LRUStore"), "\(three.text)")
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
