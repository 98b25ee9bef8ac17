import Foundation

/// Runs the alert command once: the document on stdin, stdout discarded, the start of stderr kept
/// for the log, killed at the timeout.
enum HookProcess {
    enum Outcome: Sendable, Equatable {
        case succeeded
        case failed(exitStatus: Int32, standardError: String)
        case timedOut
        case couldNotStart(String)
    }

    /// Stderr kept for the log.
    static let standardErrorLimit = 2048

    static func run(command: String, input: [UInt8], timeoutSeconds: Double) -> Outcome {
        // Stdin is a file, not a pipe: a hook that never reads it can neither block this thread on
        // a full pipe nor kill the collector with SIGPIPE by exiting early.
        let inputPath = NSTemporaryDirectory() + "leakwatch-alert-\(UUID().uuidString).json"
        guard FileManager.default.createFile(atPath: inputPath, contents: Data(input)),
              let standardInput = FileHandle(forReadingAtPath: inputPath)
        else { return .couldNotStart("cannot write the alert document to \(inputPath)") }
        defer {
            try? standardInput.close()
            try? FileManager.default.removeItem(atPath: inputPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.standardInput = standardInput
        process.standardOutput = FileHandle.nullDevice
        let standardError = Pipe()
        process.standardError = standardError
        let captured = Locked([UInt8]())
        standardError.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            captured.withLock { $0 += data.prefix(max(0, standardErrorLimit - $0.count)) }
        }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            standardError.fileHandleForReading.readabilityHandler = nil
            return .couldNotStart("\(error)")
        }
        // A child of the hook may hold stderr open after the hook exits: never wait for its end.
        defer { standardError.fileHandleForReading.readabilityHandler = nil }
        guard exited.wait(timeout: .now() + timeoutSeconds) == .success else {
            process.terminate()
            if exited.wait(timeout: .now() + 2) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
            return .timedOut
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            drain(standardError.fileHandleForReading, into: captured)
            let text = String(decoding: captured.withLock { $0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let status = process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
            return .failed(exitStatus: status, standardError: text)
        }
        return .succeeded
    }

    /// What the pipe holds now, without waiting: the readability handler may not have run before
    /// the exit was seen, and a child of the hook may keep the pipe open, so never read to its end.
    private static func drain(_ handle: FileHandle, into captured: Locked<[UInt8]>) {
        handle.readabilityHandler = nil
        let descriptor = handle.fileDescriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: standardErrorLimit)
        while captured.withLock({ $0.count }) < standardErrorLimit {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { return }
            captured.withLock { $0 += buffer.prefix(min(count, standardErrorLimit - $0.count)) }
        }
    }
}
