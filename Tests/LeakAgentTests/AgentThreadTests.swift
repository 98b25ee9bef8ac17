import Foundation
import LeakTestSupport
import LeakWire
import Testing
@testable import LeakAgent

/// The agent's threads never take a signal meant for the application, and still take their own faults.
@Suite("agent threads and signals")
struct AgentThreadTests {
    /// Runs `startThread` on a fresh thread whose mask is empty, as an application's main thread's
    /// usually is: the test runner's own threads block most signals already, which would hide a
    /// thread that merely inherits its creator's mask. `startThread` returns what its new thread
    /// reported; the creator's own mask afterwards comes with it.
    static func fromUnmaskedThread(_ startThread: @escaping @Sendable () -> ThreadSignals?) async throws
        -> (started: ThreadSignals, creatorAfter: ThreadSignals) {
        try await blocking {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            guard let started = startThread() else { throw TestFailure("the agent thread never ran") }
            return (started, ThreadSignals.ofCallingThread())
        }
    }

    static func expectAgentMask(_ masks: (started: ThreadSignals, creatorAfter: ThreadSignals)) {
        #expect(masks.started.waitedForBlocked.allSatisfy { $0 }, "\(masks.started)")
        #expect(!masks.started.anyFaultBlocked, "a fault on the agent's thread would skip every crash handler")
        #expect(masks.creatorAfter.waitedForBlocked.allSatisfy { !$0 }, "the creator's mask changed: \(masks.creatorAfter)")
    }

    @Test("a background thread (the memory monitor's kind) blocks every signal but the faults")
    func backgroundThread() async throws {
        let masks = try await Self.fromUnmaskedThread {
            let reported = Reported()
            AgentThread.spawn(name: "lw-signal-test") { reported.set(.ofCallingThread()) }
            return reported.wait(seconds: 10)
        }
        Self.expectAgentMask(masks)
    }

    @Test("the shipper's thread blocks every signal but the faults")
    func shipperThread() async throws {
        let configuration = ShipperConfiguration(
            collectorHost: "127.0.0.1", collectorPort: try closedPort(), token: [1], hostName: "test",
            serviceName: "signals", intervalSeconds: 3600, spoolLimitBytes: 1 << 20, backoffMinimumSeconds: 1,
            backoffMaximumSeconds: 1, connectTimeoutSeconds: 1, ioTimeoutSeconds: 1, stopTimeoutSeconds: 2)
        let reported = Reported()
        let shipper = Shipper(configuration: configuration, source: { Wire.Snapshot() },
                              threadStarted: { reported.set(.ofCallingThread()) })
        defer { shipper.stop() }
        let masks = try await Self.fromUnmaskedThread {
            shipper.start()
            return reported.wait(seconds: 10)
        }
        Self.expectAgentMask(masks)
    }
}

/// What a thread's signal mask blocks.
struct ThreadSignals: Sendable, CustomStringConvertible {
    static let waitedFor = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGPIPE]

    /// For each signal an application typically waits for, in `waitedFor`'s order: blocked?
    var waitedForBlocked: [Bool]
    var anyFaultBlocked: Bool

    static func ofCallingThread() -> ThreadSignals {
        var mask = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        return ThreadSignals(waitedForBlocked: waitedFor.map { sigismember(&mask, $0) == 1 },
                             anyFaultBlocked: AgentThread.faultSignals.contains { sigismember(&mask, $0) == 1 })
    }

    var description: String { "blocked \(waitedForBlocked), a fault blocked: \(anyFaultBlocked)" }
}

/// What a new thread reported, handed to the thread waiting for it.
final class Reported: @unchecked Sendable {
    private let condition = NSCondition()
    private var signals: ThreadSignals?

    func set(_ signals: ThreadSignals) {
        condition.withLock {
            self.signals = signals
            condition.signal()
        }
    }

    func wait(seconds: Double) -> ThreadSignals? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        return condition.withLock {
            while signals == nil, condition.wait(until: deadline) {}
            return signals
        }
    }
}
