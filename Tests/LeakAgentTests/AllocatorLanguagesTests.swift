import Foundation
import LeakStacks
import LeakTestSupport
import LeakWire
import Testing

/// Programs that allocate through a language's own allocator, whose frames keep no frame pointer
/// (libstdc++'s operator new, Rust's __rust_alloc and standard library), compiled here at -O2 and
/// run under agent/leakwatch-run with every allocation sampled: each leak's site must start at the
/// function that leaked, with its file and line, as heaptrack, memcheck and LSan name it.
/// (C and Swift: PreloadTests, ExecutableKindsTests, SampledSiteTests.)
@Suite("the leaking function is named above every language's allocator")
struct AllocatorLanguagesTests {
    static let fixtures = ChildProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/Preload")

    /// Debian's compiler where installed, else the one on PATH (the Swift toolchain's clang++).
    static func compiler(_ name: String) -> URL? {
        let debian = URL(fileURLWithPath: "/usr/bin/\(name)")
        if FileManager.default.isExecutableFile(atPath: debian.path) { return debian }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    static let rustc = compiler("rustc")

    /// The line of `source` that carries `marker` (the fixtures mark their leaking lines).
    static func line(of marker: String, in source: String) throws -> Int {
        let text = try String(contentsOf: fixtures.appendingPathComponent(source), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let index = try #require(lines.firstIndex { $0.contains(marker) }, "\(source) has no line marked \(marker)")
        return index + 1
    }

    /// Runs `program` preloaded with every allocation sampled; it must print what it prints alone.
    static func report(running program: URL, in directory: TemporaryDirectory) async throws -> ExitReportJSON {
        let plain = try await ChildProcess.run(program)
        let reportURL = directory.appendingPathComponent("report.json")
        let result = try await PreloadTests.runThroughScript(["--library", try PreloadTests.library().path, "--report", reportURL.path,
                                                              "--sample-bytes", "1", "--", program.path])
        #expect(result.status == plain.status && result.standardOutput == plain.standardOutput,
                "under the agent:\n\(result.summary)\n=== plain\n\(plain.summary)")
        return try ExitReportJSON(contentsOf: reportURL)
    }

    /// The site whose first frame is `function` (a qualified name's last component, as C++ and
    /// Rust demangle it: `LeakyCache::remember(int)`, `leaky_registry::Registry::remember`).
    static func site(startingAt function: String, in report: ExitReportJSON) -> ExitReportJSON.Site? {
        report.sites.first { site in
            guard let first = site.frames.first?.function else { return false }
            return first.contains("::\(function)(") || first.hasSuffix("::\(function)")
        }
    }

    static func describe(_ report: ExitReportJSON) -> String {
        report.sites.prefix(6).map { site in
            "\(site.liveBytes) B: " + site.frames.prefix(4).map { "\($0.function) \($0.file ?? "-"):\($0.line ?? 0)" }.joined(separator: " < ")
        }.joined(separator: "\n")
    }

    // MARK: C++

    struct CxxBuild: CustomTestStringConvertible, Sendable {
        var compiler: String
        var framePointers: Bool
        var testDescription: String { "\(compiler) -O2 \(framePointers ? "-fno-omit-frame-pointer" : "(no frame pointers)")" }
    }

    static let cxxBuilds = ["g++", "clang++"].flatMap { compiler in
        [false, true].map { CxxBuild(compiler: compiler, framePointers: $0) }
    }

    @Test("C++: make_unique, new[] and aligned new are named at LeakyCache's functions, file and line", arguments: cxxBuilds)
    func cxx(build: CxxBuild) async throws {
        let compiler = try #require(Self.compiler(build.compiler), "\(build.compiler) is not installed (apt-get install -y g++ clang)")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = directory.appendingPathComponent("leaky_cache")
        let flags = ["-O2", "-g"] + (build.framePointers ? ["-fno-omit-frame-pointer"] : [])
        let compiled = try await ChildProcess.run(compiler, flags + [Self.fixtures.appendingPathComponent("leaky_cache.cpp").path, "-o", program.path])
        try #require(compiled.status == 0, "\(build.compiler) failed: \(compiled.summary)")
        let report = try await Self.report(running: program, in: directory)

        let largest = try #require(report.sites.first, "no sites")
        #expect(largest.frames.first?.function == "LeakyCache::remember(int)", "\(Self.describe(report))")
        #expect(largest.liveBytes == 10 * 4000 && largest.liveObjects == 10, "\(Self.describe(report))")
        let expectations = [("remember", "LEAK-UNIQUE", 10 * 4000), ("rememberArray", "LEAK-ARRAY", 6 * 3000),
                            ("rememberAligned", "LEAK-ALIGNED", 4 * 1024)]
        for (function, marker, bytes) in expectations {
            let site = try #require(Self.site(startingAt: function, in: report), "no site starts at \(function):\n\(Self.describe(report))")
            let frame = try #require(site.frames.first)
            #expect(site.liveBytes == UInt64(bytes) || function == "rememberAligned", "\(function): \(site.liveBytes) B")
            // g++ 12 writes make_unique's inlined call with DWARF 5 range lists, which the Swift
            // Runtime's reader skips: libdw expands it (CInlineFrames), and remember keeps its line.
            let markedLine = try Self.line(of: marker, in: "leaky_cache.cpp")
            #expect(frame.file?.hasSuffix("Tests/Fixtures/Preload/leaky_cache.cpp") == true && frame.line == markedLine,
                    "\(function): \(frame.file ?? "no file"):\(frame.line ?? 0)")
        }
        // The aligned leak's four blocks: several sites when a caller tail-calls (clang's last call
        // in fill), but every one starts at rememberAligned.
        let aligned = report.sites.filter { $0.frames.first?.function == "LeakyCache::rememberAligned(int)" }
        #expect(aligned.reduce(0) { $0 + $1.liveObjects } == 4, "\(Self.describe(report))")
        #expect(!report.sites.contains { $0.frames.first.map { StackFrameKind.isAllocationPath(function: $0.function, file: $0.file ?? "") } == true },
                "a site starts at an allocator or standard-library frame:\n\(Self.describe(report))")
    }

    @Test("C++: std::bad_alloc still propagates through the agent's operator new, and nothrow new returns NULL")
    func cxxFailures() async throws {
        let compiler = try #require(Self.compiler("g++"), "g++ is not installed")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = directory.appendingPathComponent("leaky_cache")
        let compiled = try await ChildProcess.run(compiler, ["-O0", "-g", Self.fixtures.appendingPathComponent("leaky_cache.cpp").path, "-o", program.path])
        try #require(compiled.status == 0, "g++ failed: \(compiled.summary)")
        let result = try await PreloadTests.runThroughScript(["--library", try PreloadTests.library().path, "--sample-bytes", "1", "--", program.path])
        #expect(result.status == 0 && result.standardOutput == "leaky_cache done threw=1 nothrowNull=1\n", "\(result.summary)")
    }

    // MARK: Rust

    @Test("Rust (rustc -O, no frame pointers): Box::new and Vec growth are named at Registry's functions, file and line",
          .enabled(if: AllocatorLanguagesTests.rustc != nil, "no rustc: apt-get install -y rustc"))
    func rust() async throws {
        let rustc = try #require(Self.rustc)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = directory.appendingPathComponent("leaky_registry")
        let compiled = try await ChildProcess.run(rustc, ["-O", "-g", Self.fixtures.appendingPathComponent("leaky_registry.rs").path,
                                                          "-o", program.path])
        try #require(compiled.status == 0, "rustc failed: \(compiled.summary)")
        let report = try await Self.report(running: program, in: directory)

        let largest = try #require(report.sites.first, "no sites")
        let boxed = try #require(Self.site(startingAt: "remember", in: report), "no site starts at remember:\n\(Self.describe(report))")
        #expect(largest.frames.first?.function == boxed.frames.first?.function, "\(Self.describe(report))")
        // Demangled as rustfilt would: no legacy hash suffix, no `$LT$` escapes, no v0 mangling.
        #expect(boxed.frames.first?.function == "leaky_registry::Registry::remember", "\(Self.describe(report))")
        let mangled = report.sites.flatMap(\.frames).map(\.function).filter { name in
            name.contains("$LT$") || name.hasPrefix("_R") || name.contains(/::h[0-9a-f]{16}$/)
        }
        #expect(mangled.isEmpty, "names left mangled: \(mangled.prefix(5))")
        #expect(boxed.liveBytes == 10 * 4000 && boxed.liveObjects == 10)
        let boxLine = try Self.line(of: "LEAK-BOX", in: "leaky_registry.rs")
        #expect(boxed.frames.first?.file?.hasSuffix("Tests/Fixtures/Preload/leaky_registry.rs") == true
                    && boxed.frames.first?.line == boxLine,
                "\(Self.describe(report))")
        // Vec::push grows through RawVec::finish_grow and __rust_realloc, none of it with a frame
        // pointer: the walk alone would never reach grow.
        let grown = report.sites.filter { $0.frames.first?.function == "leaky_registry::Registry::grow" }
        #expect(!grown.isEmpty, "no site starts at grow:\n\(Self.describe(report))")
        let pushLine = try Self.line(of: "LEAK-VEC", in: "leaky_registry.rs")
        #expect(grown.contains { $0.frames.first?.line == pushLine && $0.frames.contains { $0.function == "leaky_registry::fill" } },
                "\(Self.describe(report))")
        #expect(!report.sites.contains { $0.frames.first.map { StackFrameKind.isAllocationPath(function: $0.function, file: $0.file ?? "") } == true },
                "a site starts at an allocator or standard-library frame:\n\(Self.describe(report))")
    }
}
