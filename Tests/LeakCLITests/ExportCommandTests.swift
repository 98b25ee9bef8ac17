import Foundation
import LeakCLI
import Testing

@Suite("collector-cli export --format pprof")
struct ExportCommandTests {
    @Test("writes a gzipped pprof profile that decodes against profile.proto with the three sample types")
    func pprofDecodes() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["export", "--host", "web-3", "--format", "pprof", "--output", "web-3.pb.gz"])
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(result.text.hasPrefix("wrote web-3.pb.gz: 3 sites"))
            let bytes = try #require(FileManager.default.contents(atPath: collector.directory.path + "/web-3.pb.gz"))
            #expect(Array(bytes.prefix(3)) == [0x1F, 0x8B, 0x08], "gzip magic and deflate method")

            let profile = try Perftools_Profiles_Profile(serializedBytes: try Gzip.decompress(Array(bytes)))
            let strings = profile.stringTable
            #expect(strings.first == "")
            func name(_ index: Int64) -> String { strings[Int(index)] }
            #expect(profile.sampleType.map { name($0.type) } == ["inuse_space", "inuse_objects", "alloc_space"])
            #expect(profile.sampleType.map { name($0.unit) } == ["bytes", "count", "bytes"])
            #expect(name(profile.defaultSampleType) == "inuse_space")
            #expect(profile.timeNanos == FleetScenario.now)
            #expect(profile.sample.count == 3)

            // Every id a sample or location names exists; ids are nonzero.
            let locations = Dictionary(uniqueKeysWithValues: profile.location.map { ($0.id, $0) })
            let functions = Dictionary(uniqueKeysWithValues: profile.function.map { ($0.id, $0) })
            let mappings = Set(profile.mapping.map(\.id))
            #expect(!locations.keys.contains(0) && !functions.keys.contains(0))
            for location in profile.location {
                #expect(location.mappingID == 0 || mappings.contains(location.mappingID))
                for line in location.line { #expect(functions[line.functionID] != nil) }
            }
            func leafFunctions(_ sample: Perftools_Profiles_Sample) -> [String] {
                sample.locationID.map { id in name(functions[locations[id]!.line[0].functionID]!.name) }
            }
            let session = try #require(profile.sample.first { sample in
                sample.label.contains { name($0.key) == "type" && name($0.str) == "Checkout.Session" }
            })
            #expect(leafFunctions(session) == [
                "Checkout.Session.__allocating_init(id:cart:)", "Checkout.SessionCache.insert(_:)",
                "Checkout.CheckoutHandler.handle(_:context:)", "NIOCore.ChannelHandlerContext.fireChannelRead(_:)",
            ])
            let insert = try #require(profile.location.first { location in
                name(functions[location.line[0].functionID]!.name) == "Checkout.SessionCache.insert(_:)"
            })
            #expect(insert.line[0].line == 42)
            #expect(name(functions[insert.line[0].functionID]!.filename) == "/src/Sources/Checkout/SessionCache.swift")
            #expect(insert.address == 0x55a0_0000_2b44)

            // Values agree with what `sites --format json` reports for the same host.
            let sites = try await collector.run(["sites", "--host", "web-3", "--format", "json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(sites.standardOutput)) as? [String: Any])
            let siteObjects = try #require(object["sites"] as? [[String: Any]])
            let expected = Set(siteObjects.map { [$0["liveBytes"] as! Int, $0["liveObjects"] as! Int, $0["allocatedBytes"] as! Int] })
            let actual = Set(profile.sample.map { $0.value.map { Int($0) } })
            #expect(actual == expected)
        }
    }

    @Test("--output - writes the profile to standard output when it is not a terminal, refuses a terminal")
    func standardOutput() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let piped = try await collector.run(["export", "--host", "web-3", "--format", "pprof", "-o", "-"])
            #expect(piped.exitCode == 0)
            let profile = try Perftools_Profiles_Profile(serializedBytes: try Gzip.decompress(piped.standardOutput))
            #expect(profile.sample.count == 3)

            let terminal = try await collector.run(["export", "--host", "web-3", "-o", "-"], context: collector.context(terminal: true))
            #expect(terminal.exitCode == CLIExitCode.badArguments)
            #expect(terminal.standardOutput.isEmpty)
        }
    }

    @Test("an unwritable output path is exit 8 and says which path")
    func unwritable() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let result = try await collector.run(["export", "--host", "web-3", "--output", "no-such-dir/web-3.pb.gz"])
            #expect(result.exitCode == CLIExitCode.outputFailed)
            #expect(result.standardError.contains("no-such-dir/web-3.pb.gz"))
        }
    }

    @Test("gzip round trip through deflateInit2 (windowBits 31)")
    func gzipRoundTrip() throws {
        let input = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) })
        let compressed = Gzip.compress(input)
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
        #expect(try Gzip.decompress(compressed) == input)
        #expect(throws: Gzip.DecompressionError.self) { try Gzip.decompress(Array(compressed.prefix(compressed.count / 2))) }
    }
}
