import Foundation
import GRDB
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// Issue 14, item 1: the agent never crashes or changes the program it runs in. Every program of
/// `DebianCorpus` runs twice from a fresh copy of Tests/Fixtures/Corpus at the same path: plainly,
/// then through agent/leakwatch-run with an exit report per process (`r-%p.json`) and a live
/// collector. Each step must exit the same and write the same bytes to stdout, stderr and its
/// working directory, and every preloaded process must leave an exit report that parses.
///
/// A program missing on the machine fails its case with the Debian package to install: `.ci/run`
/// installs them, and a corpus that quietly shrank would prove nothing.
@Suite struct DebianProgramsCorpusTests {
    /// Two programs at a time (each run plain, then preloaded): the suite shares 2 cores with the
    /// rest of the tests.
    static let gate = ConcurrencyGate(width: 2)
    static let stepTimeoutSeconds = 180

    @Test(.timeLimit(.minutes(10)), arguments: DebianCorpus.programs)
    func runsUnchangedUnderTheAgent(_ program: CorpusProgram) async throws {
        try Self.requireInstalled(program)
        try await Self.gate.withSlot {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try await TestCollector.start(dataDirectory: directory.path + "/collector").use { running in
                let tokenFile = directory.appendingPathComponent("token")
                try Data(testToken).write(to: tokenFile)
                let agent = AgentSettings(collector: "127.0.0.1:\(running.port)", tokenFile: tokenFile.path,
                                          reports: directory.appendingPathComponent("reports"))

                let plain = try await Self.runSteps(of: program, in: directory, agent: nil)
                for (index, step) in program.steps.enumerated() where plain.outputs[index].status != step.expectedStatus {
                    Issue.record("""
                        the corpus is broken: plain `\(Self.shell(step.command))` of \(program.name) exited \
                        \(plain.outputs[index].status), expected \(step.expectedStatus)
                        \(Self.excerpt(plain.outputs[index].standardError))
                        """)
                    return
                }
                let preloaded = try await Self.runSteps(of: program, in: directory, agent: agent)
                if program.shipsWhileRunning {
                    // The last snapshots may still be in flight when the program exits.
                    let stored = await waitUntil(seconds: 15) {
                        (try? running.collector.sqliteStore.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0 }) ?? 0 >= 1
                    }
                    #expect(stored, "the collector stored no snapshot of \(program.name); collector log: \(running.logs.all.suffix(5))")
                }
                try await running.stop()
                try Self.expectSameBehaviour(plain, preloaded, of: program, agent: agent)

                let ratio = preloaded.seconds / max(plain.seconds, 0.001)
                print("corpus \(program.name): plain \(Self.format(plain.seconds)) s, preloaded \(Self.format(preloaded.seconds)) s (\(Self.format(ratio))×)")
            }
        }
    }

    /// Same exit status, stdout, stderr and working directory, step by step; a parseable exit
    /// report from every process the agent could be preloaded into.
    static func expectSameBehaviour(_ plain: Run, _ preloaded: Run, of program: CorpusProgram, agent: AgentSettings) throws {
        for (index, step) in program.steps.enumerated() {
            let command = shell(step.command)
            let (was, now) = (plain.outputs[index], preloaded.outputs[index])
            #expect(now.status == was.status, "`\(command)`: exit status \(now.status) under the agent, \(was.status) plain\n\(excerpt(now.standardError))")
            #expect(now.standardOutput == was.standardOutput,
                    "`\(command)`: stdout differs under the agent\n--- plain\n\(excerpt(was.standardOutput))\n--- agent\n\(excerpt(now.standardOutput))")
            #expect(now.standardError == was.standardError,
                    "`\(command)`: stderr differs under the agent\n--- plain\n\(excerpt(was.standardError))\n--- agent\n\(excerpt(now.standardError))")
            let reports = try reportFiles(agent.reports(step: index))
            if !step.isStatic {
                #expect(!reports.isEmpty, "`\(command)` wrote no exit report")
            }
            for report in reports {
                let problems = ExitReportShape.problems(in: try Data(contentsOf: report), collector: agent.collector)
                #expect(problems.isEmpty, "`\(command)`: \(report.lastPathComponent): \(problems.joined(separator: "; "))")
            }
        }
        let changed = Set(plain.files.keys).union(preloaded.files.keys)
            .filter { !program.ignoredFiles.contains($0) && plain.files[$0] != preloaded.files[$0] }.sorted()
        #expect(changed.isEmpty, """
            files in the working directory differ under the agent: \(changed)
            \(changed.prefix(3).map { name in
                "--- \(name) plain\n\(excerpt(plain.files[name] ?? Data()))\n--- \(name) agent\n\(excerpt(preloaded.files[name] ?? Data()))"
            }.joined(separator: "\n"))
            """)
    }

    /// What the preloaded runs are given: leakwatch-run's options.
    struct AgentSettings {
        var collector: String
        var tokenFile: String
        var reports: URL

        func reports(step: Int) -> URL { reports.appendingPathComponent("step-\(step)") }
    }

    /// Every step's output, the working directory's files afterwards, and the steps' wall time.
    struct Run {
        var outputs: [ChildOutput] = []
        var files: [String: Data] = [:]
        var seconds = 0.0
    }

    static func requireInstalled(_ program: CorpusProgram) throws {
        var needs = program.needs
        for step in program.steps where step.command[0].hasPrefix("/") {
            needs[step.command[0]] = DebianCorpus.packageOf[step.command[0]] ?? "?"
        }
        let missing = needs.filter { !FileManager.default.fileExists(atPath: $0.key) }.sorted { $0.key < $1.key }
        if !missing.isEmpty {
            let packages = Set(missing.map(\.value)).sorted().joined(separator: " ")
            throw TestFailure("""
                \(program.name) needs \(missing.map(\.key).joined(separator: ", ")), missing on this machine: \
                install the Debian package(s) with `apt-get install \(packages)` (.ci/run installs them)
                """)
        }
    }

    /// Runs the steps in `directory/work`, a fresh copy of the fixtures, then moves it aside so
    /// that the next run gets the very same path.
    static func runSteps(of program: CorpusProgram, in directory: TemporaryDirectory, agent: AgentSettings?) async throws -> Run {
        let work = directory.appendingPathComponent("work")
        try FileManager.default.copyItem(at: ChildProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/Corpus"), to: work)
        let home = directory.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        var run = Run()
        for (index, step) in program.steps.enumerated() {
            var command = step.command
            if let agent {
                let reports = agent.reports(step: index)
                try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
                command = ["/bin/bash", ChildProcess.repositoryRoot.appendingPathComponent("agent/leakwatch-run").path,
                           "--library", try BuiltProducts.preloadLibrary.path,
                           "--report", reports.appendingPathComponent("r-%p.json").path, "--sample-bytes", "65536",
                           "--collector", agent.collector, "--token-file", agent.tokenFile,
                           "--host", "corpus", "--interval", "0.5", "--"] + command
            }
            let started = ContinuousClock.now
            // env -i: the same few variables for both runs, none of the test runner's.
            let output = try await ChildProcess.runCapturingBytes(
                URL(fileURLWithPath: "/usr/bin/env"), ["-i", "-C", work.path] + environment(home: home.path) + command,
                standardInput: FileHandle.nullDevice, timeoutSeconds: stepTimeoutSeconds)
            let elapsed = ContinuousClock.now - started
            run.seconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            run.outputs.append(output)
        }
        run.files = try files(under: work)
        try FileManager.default.moveItem(at: work, to: directory.appendingPathComponent(agent == nil ? "plain" : "preloaded"))
        return run
    }

    static func environment(home: String) -> [String] {
        let date = "2024-01-02T03:04:05Z"
        return [
            "PATH=/usr/bin:/bin", "HOME=\(home)", "LC_ALL=C", "TZ=UTC",
            "GIT_AUTHOR_NAME=Corpus", "GIT_AUTHOR_EMAIL=corpus@example.org", "GIT_AUTHOR_DATE=\(date)",
            "GIT_COMMITTER_NAME=Corpus", "GIT_COMMITTER_EMAIL=corpus@example.org", "GIT_COMMITTER_DATE=\(date)",
            "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
            "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0",
            // The agent's Swift runtime would install Swift's crash backtracer in every preloaded
            // program: a crash then spawns swift-backtrace, which was seen to outlive the crashed
            // process holding its stdout, so that the test waited forever instead of failing. A
            // crash must show as the signal's exit status.
            "SWIFT_BACKTRACE=enable=no",
        ]
    }

    /// Every regular file under `root` by relative path, with its bytes; directories as empty entries.
    static func files(under root: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let prefix = root.resolvingSymlinksInPath().path + "/"
        guard let walk = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return files }
        for case let url as URL in walk {
            let path = String(url.resolvingSymlinksInPath().path.dropFirst(prefix.count))
            let isFile = try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile ?? false
            files[path] = isFile ? try Data(contentsOf: url) : Data()
        }
        return files
    }

    static func reportFiles(_ directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
    }

    static func shell(_ command: [String]) -> String {
        command.map { $0.contains(" ") || $0.contains("\n") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    static func excerpt(_ bytes: Data) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.count > 3000 ? String(text.prefix(3000)) + "…" : text
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}

/// The exit report's documented top level (docs/AGENT.md, "Exit report"), checked on the bytes.
enum ExitReportShape {
    static let statsKeys: Set<String> = [
        "totalAllocatedBytes", "currentBytes", "peakBytes", "allocationCount", "freeCount",
        "blocksOutstanding", "sampleMeanBytes", "agentHeapBytes", "trackerMappedBytes",
    ]

    static func problems(in data: Data, collector: String) -> [String] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return ["not a JSON object: \(String(decoding: data.prefix(200), as: UTF8.self))"]
        }
        var problems: [String] = []
        let unexpected = Set(root.keys).subtracting(["stats", "sites", "shipping", "symbolizer"])
        if !unexpected.isEmpty { problems.append("unexpected top-level keys \(unexpected.sorted())") }
        // Named by leakwatch-symbolizer, not in the program's own memory.
        if let symbolizer = root["symbolizer"] as? String {
            if symbolizer.hasPrefix("unsymbolized") { problems.append("symbolizer: \(symbolizer)") }
        } else {
            problems.append("no \"symbolizer\" string")
        }
        if let stats = root["stats"] as? [String: Any] {
            let missing = statsKeys.subtracting(stats.keys)
            if !missing.isEmpty { problems.append("stats lacks \(missing.sorted())") }
            for (key, value) in stats where !isUnsigned(value) { problems.append("stats.\(key) is not an unsigned integer") }
        } else {
            problems.append("no \"stats\" object")
        }
        if let sites = root["sites"] as? [[String: Any]] {
            for site in sites {
                let counts = ["liveBytes", "liveObjects", "allocatedBytes"].allSatisfy { site[$0].map(isUnsigned) ?? false }
                let frames = site["frames"] as? [[String: Any]]
                let framesNamed = frames?.allSatisfy { $0["function"] is String && $0["image"] is String } ?? false
                if !counts || !framesNamed { problems.append("a malformed site: \(site)"); break }
            }
        } else {
            problems.append("no \"sites\" array")
        }
        // A process that exits before the agent's start-up thread has started it reports
        // without a "shipping" section (its agent never shipped).
        if let shipping = root["shipping"] {
            if (shipping as? [String: Any])?["collector"] as? String != collector {
                problems.append("shipping does not name the collector \(collector): \(shipping)")
            }
        }
        return problems
    }

    static func isUnsigned(_ value: Any) -> Bool {
        // On Linux `is Bool` holds for any NSNumber 0 or 1: JSON's true and false are told apart
        // by their Objective-C type code instead.
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return false }
        return number.doubleValue >= 0 && number.doubleValue == number.doubleValue.rounded()
    }
}

/// At most `width` bodies at a time; the rest wait their turn in order.
actor ConcurrencyGate {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { free = width }

    func withSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}
