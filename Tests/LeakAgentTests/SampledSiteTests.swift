import Foundation
import LeakTestSupport
import Testing

/// Sampled sites as the exit report (LEAKWATCH_REPORT) writes them, from real leaking processes.
@Suite("Sampled sites in the exit report")
struct SampledSiteTests {
    private func runWithReport(_ fixture: String, _ arguments: [String], sampleBytes: String?) async throws
        -> (ChildResult, ExitReportJSON)
    {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let reportURL = directory.appendingPathComponent("report.json")
        var environment = ["LEAKWATCH_REPORT": reportURL.path]
        if let sampleBytes { environment["LEAKWATCH_SAMPLE_BYTES"] = sampleBytes }
        let result = try await ChildProcess.fixture(fixture, arguments, environment: environment)
        #expect(result.status == 0, "\(result.summary)")
        try #require(FileManager.default.fileExists(atPath: reportURL.path), "no report written: \(result.summary)")
        return (result, try ExitReportJSON(contentsOf: reportURL))
    }

    @Test("T=1: leaks at two C functions are reported with their exact requested bytes and counts")
    func exactSitesWithEveryAllocationSampled() async throws {
        let (_, report) = try await runWithReport("LeakFixtureC", ["leak"], sampleBytes: "1")
        let alpha = try #require(report.site(withFrame: "leak_alpha"), "no site names leak_alpha")
        let beta = try #require(report.site(withFrame: "leak_beta"), "no site names leak_beta")
        #expect(alpha.liveBytes == 3 * 100_000 && alpha.liveObjects == 3)
        #expect(beta.liveBytes == 7 * 5000 && beta.liveObjects == 7)
        #expect(alpha.allocatedBytes == alpha.liveBytes)
        // The caller of malloc is the first frame: the allocator's own frames are dropped.
        #expect(alpha.frames.first?.function == "leak_alpha")
        #expect(beta.frames.first?.function == "leak_beta")
        #expect(alpha.frames.first?.file?.hasSuffix("LeakFixtureC/main.c") == true)
        #expect(alpha.frames.first?.line != nil)
        // The 1000 malloc(64)/free pairs were retired: no live site for them.
        #expect(!report.sites.contains { $0.liveObjects >= 1000 })
        #expect(report.stats["sampleMeanBytes"] == 1)
    }

    @Test("default T: 128 MiB leaked at each of two functions is estimated within +-20%")
    func estimatesWithDefaultInterval() async throws {
        let (_, report) = try await runWithReport("LeakFixtureC", ["bigleak"], sampleBytes: nil)
        #expect(report.stats["sampleMeanBytes"] == 512 * 1024)
        let leaked = 128.0 * 1024 * 1024
        for (function, objects) in [("leak_alpha", 1024.0), ("leak_beta", 32768.0)] {
            let site = try #require(report.site(withFrame: function), "no site names \(function)")
            let bytesRatio = Double(site.liveBytes) / leaked
            let objectsRatio = Double(site.liveObjects) / objects
            #expect(abs(bytesRatio - 1) <= 0.2, "\(function): \(site.liveBytes) bytes estimated for \(Int(leaked))")
            #expect(abs(objectsRatio - 1) <= 0.2, "\(function): \(site.liveObjects) objects estimated for \(objects)")
            #expect(site.frames.first?.function == function)
        }
    }

    @Test("a tagged allocation (LT_MALLOC) is its own site named by file, line and function")
    func taggedAllocation() async throws {
        let (_, report) = try await runWithReport("LeakFixtureC", ["leak"], sampleBytes: "0")
        let source = try String(contentsOf: ChildProcess.repositoryRoot
            .appendingPathComponent("Tests/Fixtures/LeakFixtureC/main.c"), encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let taggedLine = try #require(lines.firstIndex { $0.contains("LT_MALLOC(4321)") }) + 1
        let tagged = try #require(report.sites.first { $0.frames.first?.image == "tagged" }, "no tagged site")
        #expect(tagged.liveBytes == 4321 && tagged.liveObjects == 1)
        #expect(tagged.frames.first?.function == "mode_leak")
        #expect(tagged.frames.first?.line == taggedLine)
        #expect(tagged.frames.first?.file?.hasSuffix("LeakFixtureC/main.c") == true)
        // T=0 records no stacks: the tagged allocation is the only site.
        #expect(report.sites.count == 1)
    }

    @Test("Swift class instances: the type name, the demangled Swift function and its file:line")
    func swiftClassInstances() async throws {
        let (result, report) = try await runWithReport("LeakFixtureSwift", ["classleak"], sampleBytes: "1")
        for (function, typeName, count) in [("leakNodes(count:)", "LeakyNode", 300), ("openSessions(count:)", "Session", 200)] {
            let site = try #require(report.site(withFrame: function), "no site names \(function)")
            #expect(site.typeName == typeName)
            #expect(site.liveObjects == UInt64(count))
            // Each object is one request of the instance size: no more than its usable size.
            let usable = UInt64(result.value(typeName == "LeakyNode" ? "nodeUsableBytes" : "sessionUsableBytes") ?? "") ?? 0
            #expect(site.liveBytes % UInt64(count) == 0)
            #expect(site.liveBytes / UInt64(count) <= usable && site.liveBytes / UInt64(count) >= 16)
            let frame = try #require(site.frames.first { $0.function == function })
            #expect(frame.file?.hasSuffix("LeakFixtureSwift/main.swift") == true)
            #expect((frame.line ?? 0) > 0)
            #expect(site.frames.contains { $0.function.hasPrefix("\(typeName).__allocating_init") })
        }
    }

    @Test("LEAKWATCH_REPORT=- writes the text report on stderr")
    func textReportOnStandardError() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["leak"],
                                                    environment: ["LEAKWATCH_REPORT": "-", "LEAKWATCH_SAMPLE_BYTES": "1"])
        #expect(result.status == 0)
        #expect(result.standardError.hasPrefix("== Leakwatch heap report =="), "\(result.summary)")
        #expect(result.standardError.contains("leak_alpha at "))
        #expect(result.standardError.contains("293.0 KiB live in 3 objects"))
    }
}
