import Foundation

/// A program run as a real child process: its exit status and everything it printed.
public struct ChildResult: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    /// `key=value` lines of the fixtures' output.
    public func value(_ key: String) -> String? {
        for line in standardOutput.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let first = parts.first, first.hasPrefix(key + "=") else { continue }
            return String(first.dropFirst(key.count + 1))
        }
        return nil
    }

    public var summary: String { "exit status \(status)\n--- stdout\n\(standardOutput)\n--- stderr\n\(standardError)" }
}

/// A child's exit status and the exact bytes it wrote.
public struct ChildOutput: Sendable {
    public var status: Int32
    public var standardOutput: Data
    public var standardError: Data
}

public enum ChildProcess {
    /// The repository checkout these tests belong to.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs `executable` with `arguments`, the parent's environment plus `environment`, killed after
    /// `timeoutSeconds` (status 124 then, as coreutils' timeout reports it). Awaits the exit without
    /// holding a thread: the concurrency pool every test shares has only as many threads as cores.
    public static func run(_ executable: URL, _ arguments: [String] = [], environment: [String: String] = [:],
                    timeoutSeconds: Int = 300) async throws -> ChildResult {
        let output = try await runCapturingBytes(executable, arguments, environment: environment, timeoutSeconds: timeoutSeconds)
        return ChildResult(
            status: output.status,
            standardOutput: String(bytes: output.standardOutput, encoding: .utf8) ?? "",
            standardError: String(bytes: output.standardError, encoding: .utf8) ?? "")
    }

    /// `run`, with the output as the bytes written (for comparisons that must be byte for byte)
    /// and standard input from `standardInput` (`nil`: the test runner's own).
    public static func runCapturingBytes(_ executable: URL, _ arguments: [String] = [], environment: [String: String] = [:],
                                         standardInput: FileHandle? = nil,
                                         timeoutSeconds: Int = 300) async throws -> ChildOutput {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let outputURL = scratch.appendingPathComponent("stdout")
        let errorURL = scratch.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil),
              FileManager.default.createFile(atPath: errorURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: scratch.path])
        }
        let output = try FileHandle(forWritingTo: outputURL)
        let error = try FileHandle(forWritingTo: errorURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-k", "10", String(timeoutSeconds), executable.path] + arguments
        var merged = ProcessInfo.processInfo.environment
        // The test runner's own settings must not leak into a child's agent.
        for key in merged.keys where key.hasPrefix("LEAKWATCH_") || key == "LD_PRELOAD" { merged[key] = nil }
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        if let standardInput { process.standardInput = standardInput }
        process.standardOutput = output
        process.standardError = error
        try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in exited.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                exited.resume(throwing: error)
            }
        }
        try output.close()
        try error.close()
        return ChildOutput(
            status: process.terminationStatus,
            standardOutput: (try? Data(contentsOf: outputURL)) ?? Data(),
            standardError: (try? Data(contentsOf: errorURL)) ?? Data())
    }

    /// Runs one of this package's fixtures.
    public static func fixture(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> ChildResult {
        try await run(BuiltProducts.executable(name), arguments, environment: environment)
    }
}
