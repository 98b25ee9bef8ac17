import Foundation

extension Process {
    /// SIGTERM, then SIGKILL if the process has not exited within `graceSeconds`. A child started
    /// from a thread of the concurrency pool inherits its blocked signals and never sees the
    /// SIGTERM: give such a child no grace unless it must exit cleanly.
    public func stop(graceSeconds: Double = 3) {
        stop(by: .now + .seconds(graceSeconds))
    }

    /// SIGTERM, then SIGKILL if the process is still running at `deadline`.
    public func stop(by deadline: ContinuousClock.Instant) {
        if isRunning { terminate() }
        while isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        if isRunning { kill(processIdentifier, SIGKILL) }
        waitUntilExit()
    }
}

/// leakwatch-demo-server with its leak on (256 KiB a second, for at most 60 s, so it ends by
/// itself if the test is interrupted), shipping a snapshot every 0.25 s to `collector`. It keeps
/// nothing worth a clean exit: stop it with `stop(graceSeconds: 0)`.
public func startLeakingDemoServer(collector: String, token: String, host: String) throws -> Process {
    let process = Process()
    process.executableURL = try BuiltProducts.executable("leakwatch-demo-server")
    process.arguments = ["--leak", "--leak-bytes-per-second", "262144", "--seconds", "60"]
    process.environment = [
        "LEAKWATCH_COLLECTOR": collector, "LEAKWATCH_TOKEN": token, "LEAKWATCH_HOST": host,
        "LEAKWATCH_SERVICE": "demo", "LEAKWATCH_INTERVAL": "0.25", "LEAKWATCH_SAMPLE_BYTES": "65536",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// The port a collector started with a listen address of port 0 and `LOG_LEVEL=info` bound, read
/// from its "collector listening" log line as soon as that appears.
public func collectorPort(log: URL, process: Process, seconds: Double = 60) async throws -> Int {
    var text = ""
    var port: Int?
    _ = await waitUntil(seconds: seconds) {
        text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        port = listeningPort(in: text)
        return port != nil || !process.isRunning
    }
    if let port { return port }
    if !process.isRunning { throw TestFailure("the collector exited: \(text)") }
    throw TestFailure("the collector did not start listening within \(seconds) s (log: \(log.path))")
}

private func listeningPort(in log: String) -> Int? {
    guard let line = log.split(separator: "\n").first(where: { $0.contains("collector listening") }),
          let range = line.range(of: #":(\d+) "#, options: .regularExpression) else { return nil }
    return Int(line[range].dropFirst().dropLast())
}
