import LeakWire
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Ships snapshots to the collector from its own thread: one every interval and one at once when
/// asked; reconnects with exponential backoff and full jitter; keeps unacknowledged snapshots in
/// a bounded spool and resends them in order after a reconnect.
///
/// Nothing here runs on an application thread except `requestImmediateSnapshot()`, which only
/// rings a non-blocking doorbell. A collector that is down, slow, unresolvable or sending garbage
/// costs the shipper thread time, never the application.
public final class SnapshotShipper: Sendable {
    public struct Configuration: Sendable {
        public var collector: AgentConfiguration.CollectorAddress
        public var token: [UInt8]
        public var hello: Leakwatch_V1_Hello
        public var intervalSeconds: Double
        public var spoolLimitBytes: Int
        public var backoffMinimumSeconds: Double = 0.2
        public var backoffMaximumSeconds: Double = 30
        public var connectTimeoutSeconds: Double = 3
        public var ioTimeoutSeconds: Double = 5
    }

    /// What the shipper has done, for tests and the agent's own diagnostics.
    public struct Counters: Sendable, Equatable {
        public var snapshotsTaken: UInt64 = 0
        public var snapshotsSent: UInt64 = 0
        public var snapshotsAcknowledged: UInt64 = 0
        public var snapshotsDropped: UInt64 = 0
        public var connections: UInt64 = 0
        public var lastError: String?
    }

    private let configuration: Configuration
    private let source: @Sendable () -> Leakwatch_V1_Snapshot
    private let wakeup = Wakeup()
    private let immediate = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let state = Mutex(Counters())

    public init(configuration: Configuration, source: @escaping @Sendable () -> Leakwatch_V1_Snapshot) {
        self.configuration = configuration
        self.source = source
    }

    public var counters: Counters { state.withLock { $0 } }

    public func start() {
        AgentThread.spawn(name: "leakwatch-ship") { [self] in
            run()
            finished.store(true, ordering: .releasing)
        }
    }

    /// Takes and ships a snapshot as soon as the shipper thread wakes. Never blocks.
    public func requestImmediateSnapshot() {
        immediate.store(true, ordering: .relaxed)
        wakeup.ring()
    }

    /// Stops the thread, waiting at most `timeoutSeconds` for it to finish.
    public func stop(timeoutSeconds: Double = 2) {
        stopping.store(true, ordering: .relaxed)
        wakeup.ring()
        let deadline = Monotonic.seconds() + timeoutSeconds
        while !finished.load(ordering: .acquiring), Monotonic.seconds() < deadline { usleep(5_000) }
    }

    // MARK: - The shipper thread

    private struct Session {
        let connection: BlockingConnection
        var sentThrough: UInt64
        var stacksSent: Set<UInt64> = []
    }

    private func run() {
        var spool = SnapshotSpool(limitBytes: configuration.spoolLimitBytes)
        var session: Session?
        var sequence: UInt64 = 0
        var nextSnapshotAt = Monotonic.seconds()
        var reconnectAt = 0.0
        var backoff = configuration.backoffMinimumSeconds
        var generator = SystemRandomNumberGenerator()

        while !stopping.load(ordering: .relaxed) {
            let now = Monotonic.seconds()
            if now >= nextSnapshotAt || immediate.exchange(false, ordering: .relaxed) {
                sequence += 1
                var snapshot = source()
                snapshot.sequence = sequence
                let dropped = spool.takeDroppedCount()
                if dropped > 0 {
                    snapshot.events.append(.with {
                        $0.kind = .snapshotsDropped
                        $0.timestampUnixNanos = snapshot.timestampUnixNanos
                        $0.droppedCount = dropped
                        $0.message = "the spool was full: the \(dropped) oldest unacknowledged snapshots were dropped"
                    })
                }
                let droppedBefore = spool.entries.count
                spool.append(snapshot)
                let newlyDropped = UInt64(max(0, droppedBefore + 1 - spool.entries.count))
                state.withLock {
                    $0.snapshotsTaken += 1
                    $0.snapshotsDropped += newlyDropped
                }
                if now >= nextSnapshotAt {
                    nextSnapshotAt = max(nextSnapshotAt + configuration.intervalSeconds, now)
                }
            }

            if session == nil, now >= reconnectAt {
                do {
                    session = try connect(spool: &spool)
                    backoff = configuration.backoffMinimumSeconds
                } catch {
                    note(error)
                    reconnectAt = now + Double.random(in: 0...backoff, using: &generator)
                    backoff = min(backoff * 2, configuration.backoffMaximumSeconds)
                }
            }

            if var current = session {
                do {
                    try send(spool: spool, session: &current)
                    while let message = try current.connection.receive(timeoutSeconds: 0) {
                        try handle(message, spool: &spool)
                    }
                    session = current
                } catch {
                    note(error)
                    current.connection.close()
                    session = nil
                    reconnectAt = Monotonic.seconds() + Double.random(in: 0...backoff, using: &generator)
                    backoff = min(backoff * 2, configuration.backoffMaximumSeconds)
                }
            }

            // Sleep until the next snapshot, a reconnect, or (connected, awaiting acks) shortly.
            var wait = nextSnapshotAt - Monotonic.seconds()
            if session == nil { wait = min(wait, reconnectAt - Monotonic.seconds()) }
            if session != nil, !spool.entries.isEmpty { wait = min(wait, 0.05) }
            if wait > 0 { wakeup.wait(seconds: wait) }
        }
        session?.connection.close()
    }

    private func connect(spool: inout SnapshotSpool) throws -> Session {
        let options = BlockingConnection.Options(connectTimeoutSeconds: configuration.connectTimeoutSeconds,
                                                 ioTimeoutSeconds: configuration.ioTimeoutSeconds)
        let connection = try BlockingConnection.connect(
            host: configuration.collector.host, port: Int(configuration.collector.port), options: options,
            isCancelled: { [self] in stopping.load(ordering: .relaxed) })
        let welcome = try connection.handshake(hello: configuration.hello, token: configuration.token)
        spool.acknowledge(through: welcome.lastAcknowledgedSequence)
        state.withLock {
            $0.connections += 1
            $0.lastError = nil
        }
        return Session(connection: connection, sentThrough: welcome.lastAcknowledgedSequence)
    }

    /// Sends every spooled snapshot this connection has not carried yet, in order, with the
    /// definitions of the stacks this connection has not seen.
    private func send(spool: SnapshotSpool, session: inout Session) throws {
        for entry in spool.entries where entry.snapshot.sequence > session.sentThrough {
            var snapshot = entry.snapshot
            for site in snapshot.sites where !session.stacksSent.contains(site.stackID) {
                if let stack = spool.stack(site.stackID) { snapshot.stacks.append(stack) }
                session.stacksSent.insert(site.stackID)
            }
            try session.connection.send(.snapshot(snapshot))
            session.sentThrough = snapshot.sequence
            state.withLock { $0.snapshotsSent += 1 }
        }
    }

    private func handle(_ message: WireMessage, spool: inout SnapshotSpool) throws {
        switch message {
        case .ack(let ack):
            let before = spool.entries.count
            spool.acknowledge(through: ack.sequence)
            state.withLock { $0.snapshotsAcknowledged += UInt64(before - spool.entries.count) }
        case .error(let error):
            throw ShippingError(description: "the collector answered \(error.code): \(error.message)")
        default:
            throw ShippingError(description: "the collector sent an unexpected \(message.name); reconnecting")
        }
    }

    private func note(_ error: any Error) {
        let text = "\(error)"
        let isNew = state.withLock { counters in
            defer { counters.lastError = text }
            return counters.lastError != text
        }
        // One line per distinct failure, not one per retry.
        if isNew { StandardError.write("leakwatch: shipping to \(configuration.collector.host):\(configuration.collector.port): \(text)\n") }
    }
}

struct ShippingError: Error, CustomStringConvertible {
    let description: String
}

enum Monotonic {
    static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
