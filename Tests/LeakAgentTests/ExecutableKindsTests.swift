import Foundation
import LeakTestSupport
import Testing

/// The same leaking C program built every way a distribution builds executables, run through
/// agent/leakwatch-run: it must run as without the agent, and its sites must be named right.
@Suite("executables of every kind: PIE, ET_EXEC, stripped, static-pie")
struct ExecutableKindsTests {
    struct Built {
        var program: URL
        var report: URL
        var result: ChildResult
        var plain: ChildResult
    }

    /// Builds two_leaks.c with `flags`, runs it plain and under the agent (every allocation sampled).
    static func buildAndRun(_ flags: [String], name: String, in directory: TemporaryDirectory) async throws -> Built {
        let program = try await PreloadTests.compile("two_leaks.c", into: directory, flags: flags, name: name)
        let plain = try await ChildProcess.run(program)
        let report = directory.appendingPathComponent("\(name).json")
        let result = try await PreloadTests.runThroughScript(["--library", try PreloadTests.library().path, "--report", report.path,
                                                              "--sample-bytes", "1", "--", program.path])
        #expect(result.status == plain.status && result.standardOutput == plain.standardOutput
                    && result.standardError == plain.standardError,
                "\(flags) under the agent differs from the plain run:\n\(result.summary)\n=== plain\n\(plain.summary)")
        return Built(program: program, report: report, result: result, plain: plain)
    }

    @Test("PIE and ET_EXEC (-no-pie, load bias 0) name both leaking functions with file and line",
          arguments: [["-pie", "-fPIE"], ["-no-pie", "-fno-pie"]])
    func namedWithLines(flags: [String]) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let built = try await Self.buildAndRun(flags, name: "two_leaks", in: directory)
        let report = try ExitReportJSON(contentsOf: built.report)
        let parser = try #require(report.site(withFrame: "leak_in_parser"), "no site names leak_in_parser")
        #expect(parser.liveBytes == 5 * 12345)
        #expect(parser.frames.first?.file?.hasSuffix("two_leaks.c") == true && parser.frames.first?.line == 8)
        #expect(report.site(withFrame: "leak_in_cache")?.frames.first?.line == 12)
    }

    @Test("a stripped ET_EXEC program: frames are image+offset with the build-id, and addr2line on the unstripped build resolves them")
    func strippedFramesResolveLater() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let unstripped = try await PreloadTests.compile("two_leaks.c", into: directory, flags: ["-no-pie", "-fno-pie"], name: "unstripped")
        let stripped = directory.appendingPathComponent("stripped")
        let strip = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/objcopy"), ["--strip-all", unstripped.path, stripped.path])
        try #require(strip.status == 0, "objcopy failed: \(strip.summary)")
        let report = directory.appendingPathComponent("report.json")
        let result = try await PreloadTests.runThroughScript(["--library", try PreloadTests.library().path, "--report", report.path,
                                                              "--sample-bytes", "1", "--", stripped.path])
        #expect(result.status == 0 && result.standardOutput == "two_leaks done\n", "\(result.summary)")
        let sites = try ExitReportJSON(contentsOf: report).sites
        let parser = try #require(sites.first { $0.liveBytes == 5 * 12345 }, "no site of 5 × 12345 bytes")
        let frame = try #require(parser.frames.first)
        #expect(frame.function.hasPrefix("stripped+0x") && frame.image == "stripped", "\(frame.function)")
        let buildID = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/readelf"), ["-n", stripped.path])
        #expect(frame.buildID.map { buildID.standardOutput.contains("Build ID: \($0)") } == true,
                "the frame's build-id \(frame.buildID ?? "none") is not the binary's:\n\(buildID.standardOutput)")
        // The offset is the object's own virtual address: what addr2line takes on the debug build.
        let offset = String(frame.function.dropFirst("stripped+".count))
        let resolved = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/addr2line"), ["-f", "-e", unstripped.path, offset])
        #expect(resolved.standardOutput.hasPrefix("leak_in_parser\n") && resolved.standardOutput.contains("two_leaks.c:8"),
                "addr2line \(offset): \(resolved.standardOutput)")
        // The same stack in another start of the same binary has the same name: an offset, not an address.
        let again = try await PreloadTests.runThroughScript(["--library", try PreloadTests.library().path, "--report", report.path,
                                                             "--sample-bytes", "1", "--", stripped.path])
        #expect(again.status == 0)
        let secondRun = try ExitReportJSON(contentsOf: report).sites.first { $0.liveBytes == 5 * 12345 }
        #expect(secondRun?.frames.first?.function == frame.function)
    }

    @Test("without leakwatch-symbolizer the agent reads no debug information: frames are image+offset, resolvable later")
    func withoutTheSymbolizerFramesStayUnsymbolized() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await PreloadTests.compile("two_leaks.c", into: directory)
        let report = directory.appendingPathComponent("report.json")
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/bash"),
            [PreloadTests.script.path, "--library", try PreloadTests.library().path, "--report", report.path,
             "--sample-bytes", "1", "--", program.path],
            environment: ["LEAKWATCH_SYMBOLIZER": "/nonexistent/leakwatch-symbolizer"])
        #expect(result.status == 0 && result.standardOutput == "two_leaks done\n", "\(result.summary)")
        let exitReport = try ExitReportJSON(contentsOf: report)
        #expect(exitReport.symbolizer == "unsymbolized: /nonexistent/leakwatch-symbolizer is not an executable file",
                "\(exitReport.symbolizer)")
        let parser = try #require(exitReport.sites.first { $0.liveBytes == 5 * 12345 }, "no site of 5 × 12345 bytes")
        let frame = try #require(parser.frames.first)
        #expect(frame.function.hasPrefix("two_leaks+0x") && frame.file == nil && frame.buildID != nil, "\(frame)")
        let offset = String(frame.function.dropFirst("two_leaks+".count))
        let resolved = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/addr2line"), ["-f", "-e", program.path, offset])
        #expect(resolved.standardOutput.hasPrefix("leak_in_parser\n"), "addr2line \(offset): \(resolved.standardOutput)")
    }

    @Test("a library the program dlopens by a relative path, leaks in and dlcloses is still named, with file and line")
    func anUnloadedLibraryIsStillNamed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try await PreloadTests.compile("dlclose_plugin.c", into: directory, flags: ["-shared", "-fPIC"], name: "libplugin.so")
        let program = try await PreloadTests.compile("dlclose_main.c", into: directory, libraries: ["-ldl"])
        let report = directory.appendingPathComponent("report.json")
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/bash"),
            ["-c", "cd \(directory.path) && exec \(PreloadTests.script.path) --library \(try PreloadTests.library().path) "
                + "--report \(report.path) --sample-bytes 1 -- \(program.path) ./libplugin.so"])
        #expect(result.status == 0 && result.standardOutput == "plugin unloaded\n", "\(result.summary)")
        let site = try #require(try ExitReportJSON(contentsOf: report).sites.first { $0.liveBytes == 8 * 4000 }, "no site of 8 × 4000 bytes")
        let frame = try #require(site.frames.first)
        #expect(frame.function == "leak_in_plugin" && frame.file?.hasSuffix("dlclose_plugin.c") == true && frame.line == 7
                    && frame.image == "libplugin.so", "\(site.frames.prefix(2))")
    }

    @Test("under valgrind the agent starts no symbolizer (valgrind would end the process at its clone) and the program runs on",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind"), "valgrind is not installed (.ci/run installs it)"))
    func underValgrindTheProgramRunsOn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await PreloadTests.compile("two_leaks.c", into: directory)
        let report = directory.appendingPathComponent("report.json")
        // The agent goes to the program only, through env(1) under valgrind, not to valgrind's
        // launcher; the agent as agent/build-preload ships it, whose C code has DWARF 4.
        let library = try BuiltProducts.shippedPreloadAgent.appendingPathComponent("libLeakAgentPreload.so")
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/valgrind"),
            ["--tool=none", "--quiet", "--trace-children=yes", "/usr/bin/env", "LD_PRELOAD=\(library.path)",
             "LEAKWATCH_REPORT=\(report.path)", "LEAKWATCH_SAMPLE_BYTES=1", program.path])
        #expect(result.status == 0 && result.standardOutput == "two_leaks done\n", "\(result.summary)")
        let exitReport = try ExitReportJSON(contentsOf: report)
        #expect(exitReport.symbolizer.hasPrefix("unsymbolized: not started under valgrind"), "\(exitReport.symbolizer)")
        #expect(exitReport.sites.contains { $0.liveBytes == 5 * 12345 && $0.frames.first?.function.hasPrefix("two_leaks+0x") == true })
    }

    @Test("a C program that crashes with the agent's runtime loaded dies as without it: SIGSEGV, no Swift backtrace")
    func aCrashIsTheProgramsOwn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await PreloadTests.compile("crashes_later.c", into: directory)
        let plain = try await ChildProcess.run(program)
        // Any LEAKWATCH_* variable loads the Swift runtime, whose crash handler would otherwise
        // print a backtrace and keep the program's stderr open in swift-backtrace.
        let preloaded = try await PreloadTests.runThroughScript(["--library", try PreloadTests.library().path,
                                                                 "--sample-bytes", "4096", "--", program.path])
        #expect(plain.status == SIGSEGV && preloaded.status == plain.status, "\(preloaded.summary)")
        #expect(preloaded.standardError == plain.standardError && preloaded.standardOutput.isEmpty, "\(preloaded.summary)")
    }

    @Test("a static-pie program takes no preload and runs exactly as without it")
    func staticPie() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let built = try await Self.buildAndRun(["-static-pie"], name: "two_leaks_static", in: directory)
        #expect(built.result.standardOutput == "two_leaks done\n", "\(built.result.summary)")
        #expect(!FileManager.default.fileExists(atPath: built.report.path), "a static program cannot load the agent, so it writes no report")
    }
}
