import Foundation
import LeakTestSupport

/// The executables `swift build` put next to the test bundle, started as real child processes
/// that are stopped when the test ends.
final class ChildProcesses {
    private var running: [Process] = []

    @discardableResult
    func start(_ product: String, _ arguments: [String], environment: [String: String] = [:],
               log: URL) throws -> Process {
        let process = Process()
        process.executableURL = try BuiltProducts.executable(product)
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

    /// SIGTERM to every child at once, then SIGKILL to whichever is still running 3 s later.
    func stopAll() {
        let deadline = ContinuousClock.now + .seconds(3)
        for process in running where process.isRunning { process.terminate() }
        for process in running { process.stop(by: deadline) }
        running.removeAll()
    }

    deinit { stopAll() }
}
