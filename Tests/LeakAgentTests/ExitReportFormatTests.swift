import Foundation
@testable import LeakAgent
import LeakTestSupport
import Testing

/// The exit report's JSON must be exactly what docs/AGENT.md documents: the keys of the example in
/// the "Exit report" section are compared with a real report, so the two cannot drift apart.
@Suite("Exit report format")
struct ExitReportFormatTests {
    struct DocumentedShape {
        var topKeys: Set<String>
        var statsKeys: Set<String>
        var siteKeys: Set<String>
        var frameKeys: Set<String>
    }

    static func documentedShape() throws -> DocumentedShape {
        let documentURL = ChildProcess.repositoryRoot.appendingPathComponent("docs/AGENT.md")
        let document = try String(contentsOf: documentURL, encoding: .utf8)
        let section = try #require(document.range(of: "## Exit report"), "docs/AGENT.md has no \"## Exit report\" section")
        let fenceStart = try #require(document.range(of: "```json\n", range: section.upperBound..<document.endIndex))
        let fenceEnd = try #require(document.range(of: "```", range: fenceStart.upperBound..<document.endIndex))
        let example = Data(document[fenceStart.upperBound..<fenceEnd.lowerBound].utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: example) as? [String: Any],
                                "the documented example is not valid JSON")
        let stats = try #require(root["stats"] as? [String: Any])
        let sites = try #require(root["sites"] as? [[String: Any]])
        let frames = sites.flatMap { ($0["frames"] as? [[String: Any]]) ?? [] }
        return DocumentedShape(topKeys: Set(root.keys), statsKeys: Set(stats.keys),
                               siteKeys: sites.reduce(into: Set()) { $0.formUnion($1.keys) },
                               frameKeys: frames.reduce(into: Set()) { $0.formUnion($1.keys) })
    }

    @Test("the documented example carries the issue's schema")
    func documentedSchema() throws {
        let shape = try Self.documentedShape()
        #expect(shape.topKeys == ["stats", "sites", "shipping", "symbolizer"])
        #expect(shape.statsKeys.isSuperset(of: ["totalAllocatedBytes", "currentBytes", "peakBytes", "allocationCount", "freeCount"]))
        #expect(shape.siteKeys == ["liveBytes", "liveObjects", "allocatedBytes", "typeName", "frames"])
        #expect(shape.frameKeys.isSuperset(of: ["function", "file", "line", "image"]))
    }

    @Test("a real report (C and Swift fixtures) has exactly the documented keys")
    func realReportMatchesDocument() async throws {
        let shape = try Self.documentedShape()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var seenSiteKeys = Set<String>(), seenFrameKeys = Set<String>()
        for fixture in [("LeakFixtureC", "leak"), ("LeakFixtureSwift", "classleak")] {
            let reportURL = directory.appendingPathComponent("\(fixture.0).json")
            let result = try await ChildProcess.fixture(fixture.0, [fixture.1],
                                                        environment: ["LEAKWATCH_REPORT": reportURL.path, "LEAKWATCH_SAMPLE_BYTES": "1"])
            #expect(result.status == 0, "\(result.summary)")
            let report = try ExitReportJSON(contentsOf: reportURL)
            #expect(report.statsKeys == shape.statsKeys, "stats keys differ from docs/AGENT.md")
            // A linked program finds the symbolizer beside its executable.
            #expect(report.symbolizer == BuiltProducts.url("leakwatch-symbolizer").path)
            #expect(!report.sites.isEmpty)
            for site in report.sites {
                #expect(site.keys.isSubset(of: shape.siteKeys), "undocumented site keys: \(site.keys.subtracting(shape.siteKeys))")
                #expect(site.keys.isSuperset(of: ["liveBytes", "liveObjects", "allocatedBytes", "frames"]))
                seenSiteKeys.formUnion(site.keys)
                for frame in site.frames {
                    #expect(frame.keys.isSubset(of: shape.frameKeys), "undocumented frame keys: \(frame.keys.subtracting(shape.frameKeys))")
                    #expect(frame.keys.isSuperset(of: ["function", "image"]))
                    seenFrameKeys.formUnion(frame.keys)
                }
            }
            // Largest live bytes first, as documented.
            let live = report.sites.map(\.liveBytes)
            #expect(live == live.sorted(by: >))
            #expect(report.stats["currentBytes"]! <= report.stats["peakBytes"]!)
            #expect(report.stats["blocksOutstanding"] == report.stats["allocationCount"]! - report.stats["freeCount"]!)
        }
        // Optional keys are not dead documentation: the fixtures produce each of them.
        #expect(seenSiteKeys == shape.siteKeys)
        #expect(seenFrameKeys.isSuperset(of: ["function", "file", "line", "image"]))
    }

    @Test("an unwritable LEAKWATCH_REPORT path: the program still exits 0 and stderr says why")
    func unwritablePath() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["leak"],
                                                    environment: ["LEAKWATCH_REPORT": "/nonexistent-directory/report.json"])
        #expect(result.status == 0)
        #expect(result.standardError.contains("cannot write the exit report to /nonexistent-directory/report.json"),
                "\(result.summary)")
    }
}

@Suite struct ExitReportDestinationTests {
    @Test func destinations() {
        #expect(ExitReportDestination("-", standardErrorOpen: true, pid: 42) == .standardError)
        #expect(ExitReportDestination("-", standardErrorOpen: false, pid: 42) == .file("leakwatch-42.json"))
        #expect(ExitReportDestination("/tmp/r-%p.json", standardErrorOpen: true, pid: 42) == .file("/tmp/r-42.json"))
        #expect(ExitReportDestination("/tmp/r.json", standardErrorOpen: false, pid: 42) == .file("/tmp/r.json"))
    }
}
