import Foundation
import LeakCLI
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

@Suite("collector-cli hosts --watch")
struct HostsWatchTests {
    /// What a watch writes; asks it to stop once `marker` has been written `frames` times.
    final class Screen: @unchecked Sendable {
        private let lock = NSLock()
        private var written = ""
        private let marker: String
        private let frames: Int
        weak var output: LiveOutput?

        init(stopAfter frames: Int, marker: String) {
            self.frames = frames
            self.marker = marker
        }

        func append(_ bytes: [UInt8]) {
            lock.lock()
            written += String(decoding: bytes, as: UTF8.self)
            let done = written.components(separatedBy: marker).count - 1 >= frames
            lock.unlock()
            if done { output?.stop() }
        }

        var text: String {
            lock.lock()
            defer { lock.unlock() }
            return written
        }
    }

    static func watch(_ collector: TestCollector, terminal: Bool, frames: Int) async throws -> (CollectorCLI.Invocation, String) {
        let screen = Screen(stopAfter: frames, marker: "Every ")
        let output = LiveOutput { screen.append($0) }
        screen.output = output
        var context = collector.context(terminal: terminal, environment: ["NO_COLOR": "1"])
        context.liveOutput = output
        let result = try await collector.run(["hosts", "--watch", "0.1"], context: context)
        return (result, screen.text)
    }

    @Test("on a terminal: the alternate screen, cleared before each redraw, left on stop")
    func fullScreen() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let (result, screen) = try await Self.watch(collector, terminal: true, frames: 3)
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(screen.hasPrefix("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2JEvery 0.1s: collector-cli hosts  "), "\(screen.debugDescription)")
            #expect(screen.components(separatedBy: "\u{1B}[H\u{1B}[2J").count - 1 == 3)
            #expect(screen.hasSuffix("\u{1B}[?25h\u{1B}[?1049l"))
            #expect(screen.components(separatedBy: "\nweb-3 ").count - 1 == 3)
        }
    }

    @Test("piped: plain views one after another, no escape codes")
    func plainRepeated() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let (result, screen) = try await Self.watch(collector, terminal: false, frames: 2)
            #expect(result.exitCode == 0)
            #expect(!screen.contains("\u{1B}"))
            #expect(screen.components(separatedBy: "HOST ").count - 1 == 2)
            #expect(screen.hasPrefix("Every 0.1s: collector-cli hosts  "))
        }
    }

    @Test("--watch without seconds redraws every 2 s; a bad interval is refused")
    func defaultAndBadInterval() async throws {
        try await FleetScenario.startSeededCollector().use { collector in
            let screen = Screen(stopAfter: 1, marker: "Every ")
            let output = LiveOutput { screen.append($0) }
            screen.output = output
            var context = collector.context()
            context.liveOutput = output
            let result = try await collector.run(["hosts", "--watch", "--format", "json"], context: context)
            #expect(result.exitCode == 0, "stderr: \(result.standardError)")
            #expect(screen.text.hasPrefix("Every 2s: collector-cli hosts  "))
            #expect(screen.text.contains("\"host\": \"web-3\""))
            let bad = try await collector.run(["hosts", "--watch", "0"])
            #expect(bad.exitCode == CLIExitCode.badArguments)
            #expect(bad.standardError.contains("--watch 0.0 is not an interval"))
        }
    }

    @Test("the binary stops cleanly on SIGINT: exit 0, every view whole")
    func interrupt() async throws {
        let binary = try BuiltProducts.executable("collector-cli")
        try await FleetScenario.startSeededCollector().use { collector in
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let outputPath = scratch.path + "/stdout"
            FileManager.default.createFile(atPath: outputPath, contents: nil)
            let process = Process()
            process.executableURL = binary
            process.arguments = ["hosts", "--watch", "0.2"]
            process.environment = ["LEAKWATCH_COLLECTOR": collector.address, "LEAKWATCH_TOKEN": testTokenText]
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            func views() -> Int {
                let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                return text.components(separatedBy: "HOST ").count - 1
            }
            try #require(await waitUntil(seconds: 30) { views() >= 2 })
            process.interrupt()
            try #require(await waitUntil(seconds: 10) { !process.isRunning })
            #expect(process.terminationReason == .exit && process.terminationStatus == 0)
            let text = try String(contentsOfFile: outputPath, encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            #expect(text.components(separatedBy: "Every ").count - 1 == views())
        }
    }
}
