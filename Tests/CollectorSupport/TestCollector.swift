import LeakCollector
import LeakTestSupport
import Logging

/// The fleet token every test collector accepts, as an operator writes it and as the
/// configuration holds it.
public let testTokenText = "test-fleet-token-0123456789"
public let testToken: [UInt8] = Array(testTokenText.utf8)

/// A collector built by `buildCollector`, as `collector` builds it, running in this process on
/// 127.0.0.1 port 0, logging into memory. Verdict and retention passes are off (a test seeds or
/// runs them). Use it through `use { }`, which stops it also when the test throws:
///
///     try await TestCollector.start().use { collector in ... }
public final class TestCollector: Sendable {
    public let collector: Collector
    public let port: Int
    public let logs: LogCapture
    /// A scratch directory of the test's, removed by `stop()`; the database is in its data/ unless
    /// the test chose where.
    public let directory: TemporaryDirectory
    private let task: Task<Void, Error>

    /// `dataDirectory`: where the database lives, for a test that restarts a collector on the same
    /// database (the test owns it then); nil: `directory`/data.
    public static func start(
        dataDirectory: String? = nil, _ adjust: (inout CollectorConfiguration) -> Void = { _ in }
    ) async throws -> TestCollector {
        let directory = try TemporaryDirectory()
        var configuration = CollectorConfiguration()
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = 0
        configuration.dataDirectory = dataDirectory ?? directory.path + "/data"
        configuration.token = testToken
        configuration.verdictIntervalSeconds = 0
        configuration.retentionIntervalSeconds = 0
        adjust(&configuration)
        let logs = LogCapture()
        let collector: Collector
        do {
            // Threads of its own: the suite runs dozens of collectors at once (see `CollectorThreads`).
            collector = try buildCollector(configuration, logger: logs.logger, handleSignals: false, ownThreads: true)
        } catch {
            directory.remove()
            throw error
        }
        let task = Task { try await collector.run() }
        do {
            let address = try await collector.server.boundAddress()
            return TestCollector(collector: collector, task: task, port: address.port!, logs: logs, directory: directory)
        } catch {
            await collector.triggerGracefulShutdown()
            _ = try? await task.value
            directory.remove()
            throw error
        }
    }

    private init(collector: Collector, task: Task<Void, Error>, port: Int, logs: LogCapture, directory: TemporaryDirectory) {
        self.collector = collector
        self.task = task
        self.port = port
        self.logs = logs
        self.directory = directory
    }

    public var address: String { "127.0.0.1:\(port)" }

    /// Runs `body` against this collector, then stops it, also when `body` throws. An error from
    /// stopping fails the test unless `body` already failed it.
    public func use<Result>(_ body: (TestCollector) async throws -> Result) async throws -> Result {
        let result: Result
        do {
            result = try await body(self)
        } catch {
            try? await stop()
            throw error
        }
        try await stop()
        return result
    }

    /// Graceful shutdown; returns when the database is closed. Tests that check what a shutdown
    /// does call it inside `use { }` (a second stop is harmless); others leave it to `use`.
    public func stop() async throws {
        await collector.triggerGracefulShutdown()
        try await task.value
        directory.remove()
    }
}

extension Collector {
    /// The store of a collector built on SQLite (the default), for tests that look at its tables.
    public var sqliteStore: SQLiteStore {
        guard let store = store as? SQLiteStore else { preconditionFailure("this collector's store is \(store.location), not SQLite") }
        return store
    }
}
