import Foundation
import LeakTestSupport
import LeakWire
import Testing
@testable import LeakAgent

/// The agent's threads never take a signal meant for the application.
@Suite("agent threads and signals")
struct AgentThreadTests {
    /// Which of the signals an application typically waits for the calling thread blocks.
    static func applicationSignalsBlocked() -> [Bool] {
        var mask = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        return [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGPIPE].map { sigismember(&mask, $0) == 1 }
    }

    /// Runs `startThread` on a fresh thread whose mask is empty, as an application's main thread's
    /// usually is: the test runner's own threads block most signals already, which would hide a
    /// thread that merely inherits its creator's mask. `startThread` returns what its new thread
    /// reported; the creator's own mask afterwards comes with it.
    static func fromUnmaskedThread(_ startThread: @escaping @Sendable () -> [Bool]?) async throws
        -> (started: [Bool], creatorAfter: [Bool]) {
        try await blocking {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            guard let started = startThread() else { throw TestFailure("the agent thread never ran") }
            return (started, applicationSignalsBlocked())
        }
    }

    @Test("a background thread (the memory monitor's kind) starts with every signal blocked")
    func backgroundThread() async throws {
        let masks = try await Self.fromUnmaskedThread {
            let reported = ReportedMask()
            AgentThread.spawn(name: "lw-signal-test") { reported.set(AgentThreadTests.applicationSignalsBlocked()) }
            return reported.wait(seconds: 10)
        }
        #expect(masks.started.allSatisfy { $0 }, "\(masks.started)")
        #expect(masks.creatorAfter.allSatisfy { !$0 }, "the creator's mask changed: \(masks.creatorAfter)")
    }

    @Test("the shipper's thread starts with every signal blocked")
    func shipperThread() async throws {
        let configuration = ShipperConfiguration(
            collectorHost: "127.0.0.1", collectorPort: try closedPort(), token: [1], hostName: "test",
            serviceName: "signals", intervalSeconds: 3600, spoolLimitBytes: 1 << 20, backoffMinimumSeconds: 1,
            backoffMaximumSeconds: 1, connectTimeoutSeconds: 1, ioTimeoutSeconds: 1, stopTimeoutSeconds: 2)
        let reported = ReportedMask()
        let shipper = Shipper(configuration: configuration, source: { Leakwatch_V1_Snapshot() },
                              threadStarted: { reported.set(AgentThreadTests.applicationSignalsBlocked()) })
        defer { shipper.stop() }
        let masks = try await Self.fromUnmaskedThread {
            shipper.start()
            return reported.wait(seconds: 10)
        }
        #expect(masks.started.allSatisfy { $0 }, "\(masks.started)")
        #expect(masks.creatorAfter.allSatisfy { !$0 }, "the creator's mask changed: \(masks.creatorAfter)")
    }
}

/// What a new thread reported, handed to the thread waiting for it.
final class ReportedMask: @unchecked Sendable {
    private let condition = NSCondition()
    private var mask: [Bool]?

    func set(_ mask: [Bool]) {
        condition.withLock {
            self.mask = mask
            condition.signal()
        }
    }

    func wait(seconds: Double) -> [Bool]? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        return condition.withLock {
            while mask == nil, condition.wait(until: deadline) {}
            return mask
        }
    }
}
