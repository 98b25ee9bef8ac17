import Foundation
import LeakTestSupport
import Testing

/// The guarded pool (issue 17): Tests/Fixtures/Preload/guard_errors.c, one memory-safety bug per
/// mode, run through agent/leakwatch-run with LEAKWATCH_GUARD_SAMPLE=1 so that every allocation
/// goes to the pool while it has slots. Each report must name the kind, the offset from the block
/// and the block's size exactly, and its stacks the functions that misbehaved and allocated.
@Suite("guarded pool: overflows, use after free and bad frees caught in a preloaded program")
struct GuardPoolTests {
    /// The report's machine-readable last line.
    struct Summary: Equatable {
        var kind: String
        var offset: Int
        var size: Int
        var access: String
        var mode: String
    }

    static func summary(of standardError: String) -> Summary? {
        guard let line = standardError.split(separator: "\n").first(where: { $0.hasPrefix("leakwatch: SUMMARY: ") }) else {
            return nil
        }
        let words = line.dropFirst("leakwatch: SUMMARY: ".count).split(separator: " ")
        var fields: [String: String] = [:]
        for word in words.dropFirst() {
            let pair = word.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let kind = words.first, let offset = fields["offset"].flatMap({ Int($0) }),
              let size = fields["size"].flatMap({ Int($0) }), let access = fields["access"], let mode = fields["mode"] else {
            return nil
        }
        return Summary(kind: String(kind), offset: offset, size: size, access: access, mode: mode)
    }

    /// The function of frame #0 under the report's heading that starts with `heading` ("allocated",
    /// "accessed", "freed", "previously freed"), by addr2line from the frame's `(module+0xoffset)`.
    static func firstFunction(under heading: String, in standardError: String) async throws -> String? {
        let lines = standardError.split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("leakwatch: \(heading) by thread ") }),
              start + 1 < lines.count, lines[start + 1].hasPrefix("    #0 ") else { return nil }
        let frame = lines[start + 1]
        guard let open = frame.lastIndex(of: "("), let plus = frame.lastIndex(of: "+"), let close = frame.lastIndex(of: ")"),
              open < plus, plus < close else { return nil }
        let module = String(frame[frame.index(after: open)..<plus])
        // A return address: the call is the instruction before it.
        guard let offset = UInt64(frame[frame.index(plus, offsetBy: 3)..<close], radix: 16) else { return nil }
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/addr2line"),
                                                ["-f", "-e", module, "0x" + String(offset - 1, radix: 16)])
        return result.standardOutput.split(separator: "\n").first.map(String.init)
    }

    static func run(_ mode: String, sample: String = "1", guardMode: String? = nil, program: URL) async throws -> ChildResult {
        var environment = ["LEAKWATCH_GUARD_SAMPLE": sample]
        if let guardMode { environment["LEAKWATCH_GUARD_MODE"] = guardMode }
        return try await ChildProcess.run(URL(fileURLWithPath: "/bin/bash"),
                                          [PreloadTests.script.path, "--library", try BuiltProducts.preloadLibrary.path, "--",
                                           program.path, mode],
                                          environment: environment)
    }

    static func compiledProgram(_ directory: TemporaryDirectory) async throws -> URL {
        try await PreloadTests.compile("guard_errors.c", into: directory, libraries: ["-ldl", "-lpthread"])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var expected: Summary
        var misbehaving: String // the function of the access stack's (or the bad free's) frame #0
        var freed: Bool // the report carries the free stack
        var testDescription: String { mode }
    }

    static let cases: [Case] = [
        Case(mode: "overflow", expected: Summary(kind: "heap-buffer-overflow", offset: 32, size: 32, access: "write", mode: "recover"),
             misbehaving: "write_past_end", freed: false),
        Case(mode: "underflow", expected: Summary(kind: "heap-buffer-underflow", offset: -100, size: 4000, access: "read", mode: "recover"),
             misbehaving: "read_before_start", freed: false),
        Case(mode: "use-after-free-read", expected: Summary(kind: "heap-use-after-free", offset: 5, size: 64, access: "read", mode: "recover"),
             misbehaving: "read_after_free", freed: true),
        Case(mode: "use-after-free-write", expected: Summary(kind: "heap-use-after-free", offset: 7, size: 64, access: "write", mode: "recover"),
             misbehaving: "write_after_free", freed: true),
        Case(mode: "double-free", expected: Summary(kind: "double-free", offset: 0, size: 64, access: "free", mode: "recover"),
             misbehaving: "release_block", freed: true),
        Case(mode: "invalid-free", expected: Summary(kind: "invalid-free", offset: 8, size: 64, access: "free", mode: "recover"),
             misbehaving: "release_block", freed: false),
    ]

    @Test("each class is reported once with its exact kind, offset and size, both stacks named, and recover mode runs on to exit 0",
          arguments: GuardPoolTests.cases)
    func caught(_ testCase: Case) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compiledProgram(directory)
        let result = try await Self.run(testCase.mode, program: program)
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.standardOutput.hasSuffix("survived\n"), "\(result.summary)")
        #expect(Self.summary(of: result.standardError) == testCase.expected, "\(result.summary)")
        #expect(result.standardError.components(separatedBy: "leakwatch: ERROR: ").count == 2, "reported more than once: \(result.summary)")
        let heading = testCase.expected.access == "free" ? "freed" : "accessed"
        #expect(try await Self.firstFunction(under: heading, in: result.standardError) == testCase.misbehaving, "\(result.summary)")
        #expect(try await Self.firstFunction(under: "allocated", in: result.standardError) == "allocate_block", "\(result.summary)")
        if testCase.freed {
            #expect(try await Self.firstFunction(under: "previously freed", in: result.standardError) == "release_block",
                    "\(result.summary)")
        }
    }

    @Test("crash mode reports, then dies of the original SIGSEGV")
    func crashMode() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compiledProgram(directory)
        let result = try await Self.run("overflow", guardMode: "crash", program: program)
        #expect(result.status == SIGSEGV, "\(result.summary)")
        #expect(Self.summary(of: result.standardError)?.mode == "crash", "\(result.summary)")
        #expect(!result.standardOutput.contains("survived"))
        // No agent ships here (no LEAKWATCH_COLLECTOR): the raw report is all, and nothing waited for
        // a reporter (MemoryErrorsEndToEndTests has the symbolized report and the event).
        #expect(!result.standardError.contains("leakwatch: heap-buffer-overflow on address"), "\(result.summary)")
    }

    @Test("a program's own SIGSEGV handler still gets the faults outside the pool, and not the pool's")
    func programHandlerChained() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compiledProgram(directory)
        let result = try await Self.run("own-handler", program: program)
        #expect(result.status == 0, "\(result.summary)")
        #expect(result.value("programHandlerAddress") == "0x10", "\(result.summary)")
        #expect(result.value("programHandlerCalls") == "1", "\(result.summary)")
        #expect(result.value("programHandlerCallsAfterPoolFault") == "1", "\(result.summary)")
        #expect(Self.summary(of: result.standardError)?.kind == "heap-buffer-overflow", "\(result.summary)")
    }

    @Test("every entry point keeps its contract from the pool; with the pool off nothing is guarded and nothing reported")
    func poolOnAndOff() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compiledProgram(directory)
        let plain = try await ChildProcess.run(program, ["clean"])
        #expect(plain.value("result") == "ok" && plain.value("guarded") == "0", "\(plain.summary)")
        let on = try await Self.run("clean", program: program)
        #expect(on.status == 0 && on.value("result") == "ok", "\(on.summary)")
        #expect(Int(on.value("guarded") ?? "") ?? 0 > 0, "no block came from the pool: \(on.summary)")
        let off = try await Self.run("clean", sample: "0", program: program)
        #expect(off.status == 0 && off.value("result") == "ok", "\(off.summary)")
        #expect(off.value("guarded") == "0", "\(off.summary)")
        #expect(!off.standardError.contains("leakwatch: ERROR"), "\(off.summary)")
        // A malformed setting turns the pool off too (the agent's line naming it comes once its
        // runtime has loaded, 50 ms in: AgentConfigurationTests).
        let malformed = try await Self.run("clean", sample: "often", program: program)
        #expect(malformed.status == 0 && malformed.value("result") == "ok", "\(malformed.summary)")
        #expect(malformed.value("guarded") == "0", "\(malformed.summary)")
    }

    @Test("a full pool falls through to the allocator and counts it")
    func poolFull() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compiledProgram(directory)
        let result = try await Self.run("pool-full", program: program)
        #expect(result.status == 0 && result.value("result") == "ok", "\(result.summary)")
        #expect(result.value("slots") == "64", "\(result.summary)")
        #expect(Int(result.value("poolFull") ?? "") ?? 0 > 0, "\(result.summary)")
    }

    @Test("a forked child's use after free is caught in the child; eight threads churn through the pool")
    func forkAndThreads() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let program = try await Self.compiledProgram(directory)
        let forked = try await Self.run("fork", program: program)
        #expect(forked.status == 0 && forked.value("result") == "ok", "\(forked.summary)")
        #expect(forked.value("childExit") == "3", "the child did not run on after its report: \(forked.summary)")
        #expect(Self.summary(of: forked.standardError)?.offset == 9, "\(forked.summary)")
        let threads = try await Self.run("threads", program: program)
        #expect(threads.status == 0, "\(threads.summary)")
        #expect(Int(threads.value("guardedAllocations") ?? "") ?? 0 > 1000, "\(threads.summary)")
        #expect(Self.summary(of: threads.standardError) == Summary(kind: "heap-buffer-overflow", offset: 48, size: 48,
                                                                   access: "write", mode: "recover"), "\(threads.summary)")
    }
}
