import Foundation
import LeakTestSupport
import Testing

/// A new user's first step, as README.md writes it: its Swift blocks become a package of their
/// own in a scratch folder, depending on this checkout by path (whatever the checkout's folder is
/// called), built with `swift build` and run against a real collector.
@Suite(.serialized)
struct ReadmeTests {
    /// The README's ```swift blocks, in order.
    static func swiftBlocks() throws -> [String] {
        let readme = try String(contentsOf: ChildProcess.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```swift" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    static func swift(_ arguments: [String]) async throws -> ChildResult {
        try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), ["swift"] + arguments, timeoutSeconds: 900)
    }

    @Test(.timeLimit(.minutes(15)))
    func swiftBlocksBuildAndRunAgainstACollector() async throws {
        let blocks = try Self.swiftBlocks()
        try #require(blocks.count == 3, "README's Swift blocks: Package.swift, main.swift, configuration in code")
        #expect(blocks[0].contains(#".package(name: "leakwatch", path: "../leakwatch")"#))

        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let app = scratch.url.appendingPathComponent("app")
        let sources = app.appendingPathComponent("Sources/MyServer")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        let checkout = ChildProcess.repositoryRoot.path
        try blocks[0].replacingOccurrences(of: #"path: "../leakwatch""#, with: "path: \"\(checkout)\"")
            .write(to: app.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)

        // The configuration-in-code block compiles (it names a collector host that does not exist).
        try blocks[2].write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        let inCode = try await Self.swift(["build", "--package-path", app.path])
        #expect(inCode.status == 0, "\(inCode.summary)")

        try blocks[1].write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        let build = try await Self.swift(["build", "--package-path", app.path])
        try #require(build.status == 0, "\(build.summary)")
        let binPath = try await Self.swift(["build", "--package-path", app.path, "--show-bin-path"])
        let program = URL(fileURLWithPath: binPath.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
            .appendingPathComponent("MyServer")

        let work = scratch.url
        let token = "readme-token"
        try token.write(to: work.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try #"{"listen": "127.0.0.1:0", "dataDirectory": "data", "tokenFile": "token"}"#
            .write(to: work.appendingPathComponent("collector.json"), atomically: true, encoding: .utf8)
        let children = ChildProcesses()
        defer { children.stopAll() }
        let collectorLog = work.appendingPathComponent("collector.log")
        let collector = try children.start("collector", ["--config", work.appendingPathComponent("collector.json").path],
                                           environment: ["LOG_LEVEL": "info"], log: collectorLog)
        let port = try await collectorPort(log: collectorLog, process: collector)

        let run = try await ChildProcess.run(program, [], environment: [
            "LEAKWATCH_COLLECTOR": "127.0.0.1:\(port)", "LEAKWATCH_TOKEN": token, "LEAKWATCH_HOST": "readme",
            "LEAKWATCH_SERVICE": "first-hour",
        ], timeoutSeconds: 60)
        #expect(run.status == 0, "\(run.summary)")
        #expect(run.standardOutput.contains("shipping to 127.0.0.1:\(port)"), "\(run.summary)")
        #expect(run.standardError.isEmpty, "\(run.summary)")
    }
}
