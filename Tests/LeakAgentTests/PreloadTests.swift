import Foundation
import LeakTestSupport
import Testing

/// Plain C programs, compiled with `cc` here and run through agent/leakwatch-run with the preload
/// library built next to the tests (the debug build; operators use the release one).
@Suite("agent/leakwatch-run and the preload library")
struct PreloadTests {
    static var script: URL { PreloadFixture.script }

    static func library() throws -> URL { try BuiltProducts.preloadLibrary }

    static func compile(_ source: String, into directory: TemporaryDirectory, flags: [String] = [], name: String? = nil,
                        libraries: [String] = []) async throws -> URL {
        try await PreloadFixture.compile(source, into: directory, flags: flags, name: name, libraries: libraries)
    }

    static func runThroughScript(_ arguments: [String], script: URL = PreloadTests.script) async throws -> ChildResult {
        try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), [script.path] + arguments)
    }

    @Test("a plain C program: both leaking functions named with exact bytes (T=1)")
    func twoLeaksThroughScript() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compile("two_leaks.c", into: directory)
        let reportURL = directory.appendingPathComponent("report.json")
        let result = try await Self.runThroughScript(["--library", try Self.library().path, "--report", reportURL.path,
                                                      "--sample-bytes", "1", "--", program.path])
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.standardOutput == "two_leaks done\n")
        let report = try ExitReportJSON(contentsOf: reportURL)
        let parser = try #require(report.site(withFrame: "leak_in_parser"), "no site names leak_in_parser")
        let cache = try #require(report.site(withFrame: "leak_in_cache"), "no site names leak_in_cache")
        #expect(parser.liveBytes == 5 * 12345 && parser.liveObjects == 5)
        #expect(cache.liveBytes == 9 * 777 && cache.liveObjects == 9)
        #expect(parser.frames.first?.function == "leak_in_parser")
        #expect(parser.frames.first?.file?.hasSuffix("two_leaks.c") == true)
        #expect(parser.frames.first?.line == 8)
        #expect(cache.frames.first?.line == 12)
        #expect(!report.sites.contains { $0.liveObjects >= 1000 })
        #expect((report.stats["allocationCount"] ?? 0) >= 1014)
    }

    @Test("a forked child that exits after its parent leaves the parent's report in place")
    func forkedChildWritesNoReport() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compile("forking_program.c", into: directory)
        let reportURL = directory.appendingPathComponent("report.json")
        let result = try await Self.runThroughScript(["--library", try Self.library().path, "--report", reportURL.path,
                                                      "--sample-bytes", "1", "--", program.path])
        #expect(result.status == 0, "\(result.summary)")
        let child = try #require(result.value("child").flatMap { Int32($0) }, "\(result.summary)")
        // The child sleeps past its parent's exit, then exits through its inherited atexit handlers.
        #expect(await waitUntil(seconds: 10) { kill(child, 0) != 0 }, "the forked child did not exit")
        let report = try ExitReportJSON(contentsOf: reportURL)
        #expect(report.site(withFrame: "leak_in_parent") != nil, "the parent's report is gone")
        #expect(report.site(withFrame: "leak_in_child") == nil, "the child wrote its report over the parent's")
    }

    @Test("--report with %p: the parent and its forked child each write their own report")
    func reportPerProcess() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compile("forking_program.c", into: directory)
        let result = try await Self.runThroughScript(["--library", try Self.library().path, "--report", directory.path + "/report-%p.json",
                                                      "--sample-bytes", "1", "--", program.path])
        #expect(result.status == 0, "\(result.summary)")
        let child = try #require(result.value("child").flatMap { Int32($0) }, "\(result.summary)")
        #expect(await waitUntil(seconds: 10) { kill(child, 0) != 0 }, "the forked child did not exit")
        let reports = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("report-") }
        #expect(reports.count == 2, "\(reports)")
        let childReport = try ExitReportJSON(contentsOf: directory.appendingPathComponent("report-\(child).json"))
        #expect(childReport.site(withFrame: "leak_in_child") != nil, "the child's report does not name its own leak")
        let parentName = try #require(reports.first { $0 != "report-\(child).json" })
        let parentReport = try ExitReportJSON(contentsOf: directory.appendingPathComponent(parentName))
        #expect(parentReport.site(withFrame: "leak_in_parent") != nil && parentReport.site(withFrame: "leak_in_child") == nil)
    }

    @Test("--report - in a program that closed its stderr writes leakwatch-PID.json in the working directory")
    func reportWithStandardErrorClosed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compile("two_leaks.c", into: directory)
        let command = "cd '\(directory.path)' && exec 2>&- && exec '\(Self.script.path)' --library '\(try Self.library().path)' "
            + "--report - --sample-bytes 1 -- '\(program.path)'"
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), ["-c", command])
        #expect(result.status == 0 && result.standardOutput == "two_leaks done\n", "\(result.summary)")
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
            $0.hasPrefix("leakwatch-") && $0.hasSuffix(".json")
        }
        #expect(written.count == 1, "\(written)")
        let report = try ExitReportJSON(contentsOf: directory.appendingPathComponent(try #require(written.first)))
        #expect(report.site(withFrame: "leak_in_parser") != nil)
    }

    @Test("every entry point keeps its contract on sampled blocks: usable size, alignment, contents, balance",
          arguments: ["1", "4096", "524288"])
    func everyEntryPoint(sampleBytes: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compile("every_entry_point.c", into: directory)
        let plain = try await ChildProcess.run(program)
        #expect(plain.status == 0 && plain.value("result") == "ok", "\(plain.summary)")
        let result = try await Self.runThroughScript(["--library", try Self.library().path, "--sample-bytes", sampleBytes, "--", program.path])
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.value("result") == "ok", "\(result.summary)")
        #expect(result.value("currentBefore") != "0", "the tracker was not there: \(result.summary)")
    }

    @Test("without the hooks, tagged blocks are ordinary ones that glibc's own realloc and free take")
    func taggedWithoutHooks() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compile("tagged_without_hooks.c", into: directory, libraries: ["-ldl"])
        let result = try await ChildProcess.run(program, [try Self.library().path])
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.value("result") == "ok", "\(result.summary)")
    }

    @Test("the program's exit status and arguments pass through unchanged")
    func passesThrough() async throws {
        let result = try await Self.runThroughScript(["--library", try Self.library().path, "--", "/bin/sh", "-c", "echo \"$0 $1\"; exit 7", "a b", "c"])
        #expect(result.status == 7)
        #expect(result.standardOutput == "a b c\n")
    }

    @Test("a missing library fails with a message naming where it looked and how to build it")
    func missingLibrary() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A copy of the script with no library next to it and no build folder above it.
        let lonely = directory.appendingPathComponent("bin/leakwatch-run")
        try FileManager.default.createDirectory(at: lonely.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.script, to: lonely)
        let result = try await Self.runThroughScript(["--", "/bin/true"], script: lonely)
        #expect(result.status == 2)
        #expect(result.standardError.contains("libLeakAgentPreload.so not found"), "\(result.summary)")
        #expect(result.standardError.contains("agent/build-preload"))
        let explicit = try await Self.runThroughScript(["--library", "/nonexistent/libLeakAgentPreload.so", "--", "/bin/true"])
        #expect(explicit.status == 2)
        #expect(explicit.standardError.contains("--library '/nonexistent/libLeakAgentPreload.so' does not exist"))
    }

    @Test("bad options are refused before anything runs", arguments: [
        (["--sample-bytes", "lots", "--", "/bin/true"], "--sample-bytes expects a number"),
        (["--collector", "nohostport", "--", "/bin/true"], "--collector expects HOST:PORT"),
        (["--frobnicate", "--", "/bin/true"], "unknown option '--frobnicate'"),
        (["--report"], "option --report needs a value"),
        (["--report", "/tmp/x.json"], "no program to run"),
    ])
    func badOptions(arguments: [String], message: String) async throws {
        let result = try await Self.runThroughScript(arguments)
        #expect(result.status == 2)
        #expect(result.standardError.contains(message), "\(result.summary)")
    }

    /// `.ci/run` installs libjemalloc-dev; a developer's machine may not have it.
    static let jemallocAvailable = FileManager.default.fileExists(atPath: "/usr/include/jemalloc/jemalloc.h")

    @Test("a program linked with jemalloc keeps jemalloc, runs correctly, and is counted",
          .enabled(if: PreloadTests.jemallocAvailable, "libjemalloc-dev is not installed (`apt-get install libjemalloc-dev`; .ci/run installs it)"))
    func jemallocProgram() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compile("jemalloc_program.c", into: directory, libraries: ["-ljemalloc", "-ldl"])
        // Plain: jemalloc works and the tracker is absent.
        let plain = try await ChildProcess.run(program)
        #expect(plain.value("trackerPresent") == "0")
        #expect(plain.value("jemallocVersion")?.hasPrefix("5.") == true, "\(plain.summary)")
        // Preloaded: jemalloc still serves the memory (its own statistics grow), and we count it.
        let reportURL = directory.appendingPathComponent("report.json")
        let result = try await Self.runThroughScript(["--library", try Self.library().path, "--report", reportURL.path,
                                                      "--sample-bytes", "1", "--", program.path])
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.value("result") == "ok")
        #expect(result.value("trackerPresent") == "1")
        #expect(result.value("churnBalanced") == "1", "\(result.summary)")
        #expect(result.value("jemallocVersion") == plain.value("jemallocVersion"))
        let report = try ExitReportJSON(contentsOf: reportURL)
        let site = try #require(report.site(withFrame: "leak_in_jemalloc_program"))
        #expect(site.liveBytes == 4 * 30000 && site.liveObjects == 4)
    }
}
