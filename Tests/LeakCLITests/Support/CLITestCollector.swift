import Foundation
import LeakCLI
import LeakCollector
import LeakTestSupport
import LeakWire
import Logging

let fleetToken = "cli-test-fleet-token-0123456789"

/// A real collector built from the LeakCollector library, in this process, on 127.0.0.1 port 0,
/// with a SQLite database in a temporary directory.
final class CLITestCollector: Sendable {
    let collector: Collector
    let task: Task<Void, Error>
    let port: Int
    let directory: TemporaryDirectory

    static func start(_ adjust: @Sendable (inout CollectorConfiguration) -> Void = { _ in }) async throws -> CLITestCollector {
        let directory = try TemporaryDirectory()
        var configuration = CollectorConfiguration()
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = 0
        configuration.dataDirectory = directory.path + "/data"
        configuration.token = Array(fleetToken.utf8)
        configuration.verdictIntervalSeconds = 0  // verdicts are seeded or evaluated by the test
        configuration.retentionIntervalSeconds = 0
        configuration.eventLoopThreads = 1
        adjust(&configuration)
        var logger = Logger(label: "leakwatch.cli-test")
        logger.logLevel = .critical
        let collector = try buildCollector(configuration, logger: logger, handleSignals: false)
        let task = Task { try await collector.run() }
        let address = try await collector.server.boundAddress()
        return CLITestCollector(collector: collector, task: task, port: address.port!, directory: directory)
    }

    private init(collector: Collector, task: Task<Void, Error>, port: Int, directory: TemporaryDirectory) {
        self.collector = collector
        self.task = task
        self.port = port
        self.directory = directory
    }

    var address: String { "127.0.0.1:\(port)" }

    func stop() async throws {
        await collector.triggerGracefulShutdown()
        try await task.value
        directory.remove()
    }

    /// Runs `body` against this collector, then stops it, also when `body` throws. An error
    /// from stopping fails the test unless `body` already failed it.
    func use(_ body: (CLITestCollector) async throws -> Void) async throws {
        do {
            try await body(self)
        } catch {
            try? await stop()
            throw error
        }
        try await stop()
    }

    /// A context pointing at this collector with the right token, a fixed clock and no terminal.
    func context(now: Int64 = FleetScenario.now, terminal: Bool = false, environment extra: [String: String] = [:]) -> CLIContext {
        var environment = ["LEAKWATCH_COLLECTOR": address, "LEAKWATCH_TOKEN": fleetToken]
        environment.merge(extra) { $1 }
        return CLIContext(environment: environment, nowUnixNanos: now, standardOutputIsTerminal: terminal,
                          currentDirectory: directory.path, connectTimeoutSeconds: 5, requestTimeoutSeconds: 30)
    }

    /// Runs collector-cli in-process on a thread of its own (it blocks on sockets).
    func run(_ arguments: [String], context: CLIContext? = nil) async throws -> CollectorCLI.Invocation {
        let context = context ?? self.context()
        return try await blocking { CollectorCLI.run(arguments: arguments, context: context) }
    }
}
