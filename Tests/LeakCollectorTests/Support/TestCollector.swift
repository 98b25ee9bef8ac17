import Foundation
import LeakCollector
import LeakWire
import Logging

let testToken: [UInt8] = Array("test-fleet-token-0123456789".utf8)

/// Log lines kept in memory so tests can check what the collector said.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }

    var logger: Logger {
        Logger(label: "leakwatch.test") { _ in CapturingLogHandler(capture: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        capture.append("\(event.level) \(event.message) \(rendered)")
    }
}

/// A collector built by `buildCollector`, running in this process on 127.0.0.1, port 0.
final class RunningCollector: Sendable {
    let collector: Collector
    let task: Task<Void, Error>
    let port: Int
    let logs: LogCapture

    static func start(
        dataDirectory: String, _ adjust: (inout CollectorConfiguration) -> Void = { _ in }
    ) async throws -> RunningCollector {
        var configuration = CollectorConfiguration()
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = 0
        configuration.dataDirectory = dataDirectory
        configuration.token = testToken
        configuration.verdictIntervalSeconds = 0
        configuration.retentionIntervalSeconds = 0
        adjust(&configuration)
        let logs = LogCapture()
        let collector = try buildCollector(configuration, logger: logs.logger, handleSignals: false)
        let task = Task { try await collector.run() }
        let address = try await collector.server.boundAddress()
        return RunningCollector(collector: collector, task: task, port: address.port!, logs: logs)
    }

    private init(collector: Collector, task: Task<Void, Error>, port: Int, logs: LogCapture) {
        self.collector = collector
        self.task = task
        self.port = port
        self.logs = logs
    }

    /// Graceful shutdown; returns when the database is closed.
    func stop() async throws {
        await collector.triggerGracefulShutdown()
        try await task.value
    }
}
