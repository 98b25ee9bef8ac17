import Foundation

/// The executables `swift build` put next to the test bundle, started as real child processes
/// that are killed when the test ends.
final class ChildProcesses {
    static let productsDirectory: URL = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // Inside the .xctest bundle on some layouts; the products sit beside the bundle.
        while directory.path != "/", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("collector").path) {
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    private var running: [Process] = []

    @discardableResult
    func start(_ product: String, _ arguments: [String], environment: [String: String] = [:],
               log: URL) throws -> Process {
        let process = Process()
        process.executableURL = Self.productsDirectory.appendingPathComponent(product)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil) // if it fails, the next line throws
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        running.append(process)
        return process
    }

    /// SIGTERM, then SIGKILL for whatever has not exited within `graceSeconds` (a child may
    /// inherit a blocked SIGTERM from the test runner's thread).
    func stopAll(graceSeconds: Double = 3) {
        for process in running where process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(graceSeconds)
        while running.contains(where: \.isRunning), Date() < deadline { usleep(50_000) }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in running { process.waitUntilExit() }
        running.removeAll()
    }

    deinit { stopAll() }
}

func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The port a collector started with `"listen": "127.0.0.1:0"` and `LOG_LEVEL=info` bound,
/// read from its "collector listening" log line.
func listeningPort(_ log: URL, timeoutSeconds: Int = 30) async throws -> Int {
    let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
    while ContinuousClock.now < deadline {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if let line = text.split(separator: "\n").first(where: { $0.contains("collector listening") }),
           let range = line.range(of: #":(\d+) "#, options: .regularExpression),
           let port = Int(line[range].dropFirst().dropLast()) {
            return port
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw E2EError(description: "the collector did not start listening within \(timeoutSeconds) s: \(log.path)")
}

/// Runs blocking work (socket I/O) on its own thread, so the concurrency pool that every test
/// shares stays free while it waits.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
