import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// The guarded pool's errors end to end (issue 17, items 3, 5, 6): a real program, preloaded or
/// linked, shipping to the in-process collector on 127.0.0.1 with LEAKWATCH_GUARD_SAMPLE=1. Its
/// stderr must carry the symbolized report naming the misbehaving and the allocating function; the
/// collector must store the MEMORY_ERROR event, in recover mode and when the process dies of it;
/// `collector-cli errors` must rank it and `report --host` show it.
@Suite("memory errors: named on stderr, stored by a real collector, listed by collector-cli errors")
struct MemoryErrorsEndToEndTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var kind: String
        /// Where the agent's report says the address is.
        var placement: String
        /// The function of frame #0 of the access (or bad free) stack.
        var misbehaving: String
        var freed: Bool
        var testDescription: String { mode }
    }

    static let cases: [Case] = [
        Case(mode: "overflow", kind: "heap-buffer-overflow", placement: "0 bytes after a 32-byte block (write",
             misbehaving: "write_past_end", freed: false),
        Case(mode: "underflow", kind: "heap-buffer-underflow", placement: "100 bytes before a 4000-byte block (read",
             misbehaving: "read_before_start", freed: false),
        Case(mode: "use-after-free-read", kind: "heap-use-after-free", placement: "5 bytes inside a 64-byte block (read",
             misbehaving: "read_after_free", freed: true),
        Case(mode: "use-after-free-write", kind: "heap-use-after-free", placement: "7 bytes inside a 64-byte block (write",
             misbehaving: "write_after_free", freed: true),
        Case(mode: "double-free", kind: "double-free", placement: "0 bytes inside a 64-byte block (free",
             misbehaving: "release_block", freed: true),
        Case(mode: "invalid-free", kind: "invalid-free", placement: "8 bytes inside a 64-byte block (free",
             misbehaving: "release_block", freed: false),
    ]

    /// The agent's environment for a child shipping to `collector` as `host`.
    static func environment(_ collector: TestCollector, host: String, guardMode: String) -> [String: String] {
        ["LEAKWATCH_COLLECTOR": collector.address, "LEAKWATCH_TOKEN": testTokenText, "LEAKWATCH_HOST": host,
         "LEAKWATCH_SERVICE": "guarded", "LEAKWATCH_GUARD_SAMPLE": "1", "LEAKWATCH_GUARD_MODE": guardMode]
    }

    /// Runs a fixture that waits for the file given as its last argument before its bug, and
    /// creates the file once `host` is on the collector's books: these tests are about an error's
    /// way to the collector, not about how long an agent takes to start on a busy machine.
    static func runOnceShipping(_ executable: URL, _ arguments: [String], environment: [String: String],
                                collector: TestCollector, host: String, directory: TemporaryDirectory) async throws -> ChildResult {
        let start = directory.appendingPathComponent("start-\(host)")
        async let result = ChildProcess.run(executable, arguments + [start.path], environment: environment)
        let shipping = await waitUntil(seconds: 60) { (try? collector.collector.store.host(named: host)) != nil }
        FileManager.default.createFile(atPath: start.path, contents: nil)
        let finished = try await result
        try #require(shipping, "\(host) never shipped: \(finished.summary)")
        return finished
    }

    static func compiledProgram(_ directory: TemporaryDirectory) async throws -> URL {
        try await PreloadFixture.compile("guard_errors.c", into: directory, libraries: ["-ldl", "-lpthread"])
    }

    /// `program` (guard_errors.c) preloaded, its bug run once its agent ships.
    static func runPreloaded(_ program: URL, _ mode: String, guardMode: String = "recover", collector: TestCollector,
                             host: String, directory: TemporaryDirectory) async throws -> ChildResult {
        try await runOnceShipping(
            URL(fileURLWithPath: "/bin/bash"),
            [PreloadFixture.script.path, "--library", try BuiltProducts.preloadLibrary.path, "--", program.path, mode],
            environment: environment(collector, host: host, guardMode: guardMode), collector: collector, host: host,
            directory: directory)
    }

    /// The symbolized report: its headline and the first frames under it, under "freed by" and
    /// under "allocated by" (the raw report above it has addresses only).
    struct SymbolizedReport {
        var headline: String
        var access: [String] = [], freed: [String] = [], allocated: [String] = []

        init?(_ standardError: String, kind: String) {
            let lines = standardError.split(separator: "\n").map(String.init)
            guard let start = lines.firstIndex(where: { $0.hasPrefix("leakwatch: \(kind) on address 0x") }) else { return nil }
            headline = lines[start]
            var section = \SymbolizedReport.access
            for line in lines[(start + 1)...] {
                if line.hasPrefix("  freed by thread ") { section = \.freed } else if line.hasPrefix("  allocated by thread ") {
                    section = \.allocated
                } else if line.hasPrefix("    #") { self[keyPath: section].append(line) } else { break }
            }
        }
    }

    /// `collector-cli errors --format json`'s rows, once `count` of them are there (10 s at most).
    static func listedErrors(_ collector: TestCollector, occurrences: Int = 1) async throws -> [[String: Any]] {
        var rows: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(10)
        repeat {
            let listing = try await collector.run(["errors", "--format", "json"])
            try #require(listing.exitCode == 0, "\(listing.standardError)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(listing.text.utf8)) as? [String: Any])
            rows = document["errors"] as? [[String: Any]] ?? []
            if rows.reduce(0, { $0 + ($1["occurrences"] as? Int ?? 0) }) >= occurrences { return rows }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        return rows
    }

    static func functions(_ frames: Any?) -> [String] {
        (frames as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
    }

    @Test("each class: the symbolized report names both functions, and the collector lists the error under its allocation site",
          .timeLimit(.minutes(3)), arguments: MemoryErrorsEndToEndTests.cases)
    func recoverMode(_ testCase: Case) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start().use { collector in
            let program = try await Self.compiledProgram(directory)
            let result = try await Self.runPreloaded(program, testCase.mode, collector: collector, host: "web-1", directory: directory)
            #expect(result.status == 0 && result.standardOutput.hasSuffix("survived\n"), "\(result.summary)")
            let report = try #require(SymbolizedReport(result.standardError, kind: testCase.kind), "\(result.summary)")
            #expect(report.headline.contains(testCase.placement), "\(report.headline)")
            #expect(report.access.first?.contains(" \(testCase.misbehaving) at ") == true, "\(result.summary)")
            #expect(report.allocated.first?.contains(" allocate_block at ") == true, "\(result.summary)")
            #expect(report.allocated.first?.contains("guard_errors.c:") == true, "file:line: \(result.summary)")
            if testCase.freed {
                #expect(report.freed.first?.contains(" release_block at ") == true, "\(result.summary)")
            } else {
                #expect(report.freed.isEmpty, "\(result.summary)")
            }

            let rows = try await Self.listedErrors(collector)
            #expect(rows.count == 1, "\(rows)")
            let row = try #require(rows.first)
            #expect(row["kind"] as? String == testCase.kind)
            #expect(row["hosts"] as? [String] == ["web-1"])
            #expect(row["occurrences"] as? Int == 1)
            #expect(Self.functions(row["allocationFrames"]).first == "allocate_block", "\(row)")
            #expect(Self.functions(row["accessFrames"]).first == testCase.misbehaving, "\(row)")
        }
    }

    @Test("crash mode dies of SIGSEGV after the collector has the error; two hosts at one site make one row",
          .timeLimit(.minutes(3)))
    func crashModeDelivers() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start().use { collector in
            // One binary on two hosts: one code path, one allocation site.
            let program = try await Self.compiledProgram(directory)
            let crashed = try await Self.runPreloaded(program, "overflow", guardMode: "crash", collector: collector, host: "web-2",
                                                      directory: directory)
            #expect(crashed.status == SIGSEGV, "\(crashed.summary)")
            #expect(crashed.standardError.contains("leakwatch: the program dies of it (LEAKWATCH_GUARD_MODE=crash)"),
                    "\(crashed.summary)")
            // No wait after the crash: the handler held the process until the collector acknowledged.
            let listing = try await collector.run(["errors", "--format", "json"])
            #expect(listing.text.contains("\"heap-buffer-overflow\""), "\(listing.text)\n\(crashed.summary)")

            let report = try await collector.run(["report", "--host", "web-2"])
            #expect(report.text.contains("Memory errors"), "\(report.text)")
            #expect(report.text.contains("heap-buffer-overflow  write 0 bytes after a 32-byte block"), "\(report.text)")
            #expect(report.text.contains(", died"), "\(report.text)")
            for line in report.text.split(separator: "\n") { #expect(line.count <= 100, "too wide: \(line)") }
            #expect(report.text.contains("allocated at allocate_block (guard_errors.c:"), "\(report.text)")
            let page = try await collector.run(["report", "--host", "web-2", "--format", "html"])
            #expect(page.text.contains("<section id=\"memory-errors\">"))
            #expect(page.text.contains("<strong>heap-buffer-overflow</strong></td><td>write 0 bytes after a 32-byte block, thread "))
            #expect(page.text.contains(", died<ul class=\"frames\">"))
            #expect(page.text.contains("<li>allocated at allocate_block <span class=\"location\""))

            let recovered = try await Self.runPreloaded(program, "overflow", collector: collector, host: "web-1", directory: directory)
            #expect(recovered.status == 0, "\(recovered.summary)")
            let rows = try await Self.listedErrors(collector, occurrences: 2)
            #expect(rows.count == 1, "one allocation site and kind: \(rows)")
            #expect(rows.first?["hostCount"] as? Int == 2, "\(rows)")
            #expect(rows.first?["hosts"] as? [String] == ["web-1", "web-2"], "most recent first: \(rows)")
            let text = try await collector.run(["memory-errors"])
            #expect(text.text.contains("heap-buffer-overflow  2 hosts, 2 times"), "\(text.text)")
            #expect(text.text.contains("allocated at allocate_block (guard_errors.c:"), "\(text.text)")
            for line in text.text.split(separator: "\n") { #expect(line.count <= 100, "too wide: \(line)") }
        }
    }

    @Test("a Swift program linked with LeakAgentHooks writes past an UnsafeMutablePointer: caught, named, stored",
          .timeLimit(.minutes(3)))
    func swiftUnsafeMutablePointer() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start().use { collector in
            var environment = Self.environment(collector, host: "swift-1", guardMode: "recover")
            environment["LEAKWATCH_GUARD_SLOTS"] = "1024" // the Swift runtime's own blocks take slots too
            let result = try await Self.runOnceShipping(try BuiltProducts.executable("LeakFixtureSwift"), ["overflow"],
                                                        environment: environment, collector: collector, host: "swift-1",
                                                        directory: directory)
            #expect(result.status == 0 && result.value("guarded") == "1", "\(result.summary)")
            #expect(result.standardOutput.contains("survived"), "\(result.summary)")
            let report = try #require(SymbolizedReport(result.standardError, kind: "heap-buffer-overflow"), "\(result.summary)")
            #expect(report.headline.contains("0 bytes after a 32-byte block (write"), "\(report.headline)")
            #expect(report.access.first?.contains("countPastEnd") == true, "\(result.summary)")
            #expect(report.access.first?.contains("main.swift:") == true, "\(result.summary)")
            #expect(report.allocated.prefix(3).contains { $0.contains("allocateCounters") }, "\(result.summary)")

            let rows = try await Self.listedErrors(collector)
            #expect(rows.first?["hosts"] as? [String] == ["swift-1"], "\(rows)")
            #expect(Self.functions(rows.first?["accessFrames"]).first?.contains("countPastEnd") == true, "\(rows)")
        }
    }
}
