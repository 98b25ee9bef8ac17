import LeakWireCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Ships snapshots to the collector from a thread of its own.
///
/// * A snapshot every `intervalSeconds`, and one as soon as possible after
///   `requestImmediateSnapshot()`.
/// * Sequence numbers from 1, assigned here; timestamps from the wall clock when the source
///   left them 0.
/// * Stacks interned per connection: a stack's frames cross once per connection.
/// * Unacknowledged snapshots wait in a bounded spool and are resent, in order, after a
///   reconnect, starting after Welcome's last acknowledged sequence.
/// * Reconnects with exponential backoff and full jitter.
///
/// Application threads only ever touch `requestImmediateSnapshot()` (an atomic store and a
/// non-blocking pipe write) and `statistics` (a short lock). Name resolution, connecting,
/// sending and waiting for acks happen on the shipper thread, each bounded by a timeout, so a
/// collector that is down, slow, unresolvable or sending garbage costs that thread time and
/// nothing else.
public final class Shipper: Sendable {
    public let configuration: ShipperConfiguration
    let source: @Sendable () -> Wire.Snapshot
    let threadStarted: (@Sendable () -> Void)?
    let warn: (@Sendable (String) -> Void)?
    /// Held while the shipper thread runs, released while it waits (see `init`).
    let workGate: BlockingWaitHooks?
    /// When `warn` last ran (monotonic seconds), for its rate limit.
    let lastWarningAt = Mutex(-Double.infinity)
    let doorbell = ShipperDoorbell()
    let immediateRequested = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    let finished = Atomic<Bool>(false)
    let started = Atomic<Bool>(false)
    let state = Mutex(ShipperStatistics())
    /// For `shipNowAndWait`: the newest sequence whose snapshot has begun to be taken, the highest
    /// the collector acknowledged, and failures to ship (a lost connection, a rejected snapshot).
    let sequenceTaking = Atomic<UInt64>(0)
    let sequenceAcknowledged = Atomic<UInt64>(0)
    let failuresToShip = Atomic<UInt64>(0)
    /// The collector connection's socket while connected (-1 otherwise), for `abandonAfterFork`.
    let connectedDescriptor = Atomic<Int32>(-1)
    private let thread = Mutex<pthread_t?>(nil)

    /// - Parameters:
    ///   - source: returns a FULL snapshot (every site's stack in `stacks`); sequence and
    ///     timestamp are left for the shipper. Called on the shipper thread only.
    ///   - threadStarted: called first thing on the shipper thread.
    ///   - warn: told of a failure to connect, authenticate or ship: the first one, then at most
    ///     one every `configuration.warningIntervalSeconds` (the agent writes them on stderr).
    ///   - workGate: `didWait` is entered when the thread starts and after each wait, `willWait`
    ///     before each wait and when it ends. The agent's gate makes a fork wait for the
    ///     shipper's work in progress, so that a forked child never inherits a lock or a lazy
    ///     global's initialization held by the shipper thread.
    public init(configuration: ShipperConfiguration,
                source: @escaping @Sendable () -> Wire.Snapshot,
                threadStarted: (@Sendable () -> Void)? = nil,
                warn: (@Sendable (String) -> Void)? = nil,
                workGate: BlockingWaitHooks? = nil) {
        self.configuration = configuration
        self.source = source
        self.threadStarted = threadStarted
        self.warn = warn
        self.workGate = workGate
    }

    /// What the shipper has done so far.
    public var statistics: ShipperStatistics { state.withLock { $0 } }

    /// Starts the shipper thread (once; later calls do nothing). Returns false if the thread
    /// could not be created.
    @discardableResult
    public func start() -> Bool {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return true }
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let status = AgentThread.create(&handle, { argument in
            let shipper = Unmanaged<Shipper>.fromOpaque(argument!).takeRetainedValue()
            shipper.threadMain()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Shipper>.fromOpaque(context).release()
            finished.store(true, ordering: .releasing)
            state.withLock { $0.lastError = "cannot create the shipper thread (error \(status))" }
            return false
        }
        thread.withLock { $0 = handle }
        return true
    }

    /// Takes and ships a snapshot as soon as the shipper thread wakes. Callable from any
    /// thread; never blocks, allocates or takes a lock.
    public func requestImmediateSnapshot() {
        immediateRequested.store(true, ordering: .releasing)
        doorbell.ring()
    }

    /// Takes a snapshot at once, like `requestImmediateSnapshot`, and waits until the collector has
    /// acknowledged it (true), shipping failed, or `seconds` passed. Whatever was recorded for the
    /// snapshot before the call is in it. For the agent's own threads, when the process may be
    /// about to die: it polls every 2 ms.
    public func shipNowAndWait(seconds: Double) -> Bool {
        // A snapshot begun after this load starts after whatever the caller recorded.
        let needed = sequenceTaking.load(ordering: .acquiring) + 1
        let failures = failuresToShip.load(ordering: .acquiring)
        requestImmediateSnapshot()
        let deadline = ShipperClock.monotonicSeconds() + seconds
        while ShipperClock.monotonicSeconds() < deadline && !finished.load(ordering: .acquiring) {
            if sequenceAcknowledged.load(ordering: .acquiring) >= needed { return true }
            if failuresToShip.load(ordering: .acquiring) != failures { return false }
            usleep(2000)
        }
        return false
    }

    /// Stops the shipper thread, waiting at most `configuration.stopTimeoutSeconds`. Returns
    /// whether the thread finished (and was joined) in time; if not, it is detached and exits
    /// at its next cancellation check (within about 100 ms of its current system call).
    @discardableResult
    public func stop() -> Bool {
        stopping.store(true, ordering: .releasing)
        doorbell.ring()
        guard let handle = thread.withLock({ current -> pthread_t? in
            defer { current = nil }
            return current
        }) else { return finished.load(ordering: .acquiring) }
        let deadline = ShipperClock.monotonicSeconds() + configuration.stopTimeoutSeconds
        while !finished.load(ordering: .acquiring) && ShipperClock.monotonicSeconds() < deadline {
            usleep(2_000)
        }
        if finished.load(ordering: .acquiring) {
            pthread_join(handle, nil)
            return true
        }
        pthread_detach(handle)
        return false
    }

    /// In the child of a fork, where the shipper thread does not exist: closes the inherited
    /// connection, so the parent's session ends when the parent closes it. Nothing is joined.
    public func abandonAfterFork() {
        let descriptor = connectedDescriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if descriptor >= 0 { close(descriptor) }
    }

    private func threadMain() {
        workGate?.didWait()
        threadStarted?()
        run()
        workGate?.willWait()
        finished.store(true, ordering: .releasing)
    }
}

/// Counters for tests and the agent's own diagnostics.
public struct ShipperStatistics: Sendable, Equatable {
    public var snapshotsTaken: UInt64 = 0
    /// Frames sent, resends included.
    public var snapshotsSent: UInt64 = 0
    public var snapshotsAcknowledged: UInt64 = 0
    /// Dropped from a full spool before the collector acknowledged them (including ones sent
    /// but not yet acknowledged, which most likely arrived).
    public var snapshotsDropped: UInt64 = 0
    /// Rejected by the collector for good (a field broke a rule of docs/PROTOCOL.md,
    /// "Validation") and dropped rather than resent.
    public var snapshotsRejected: UInt64 = 0
    public var connectionsEstablished: UInt64 = 0
    public var connectionFailures: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var spooledSnapshots: Int = 0
    public var spooledBytes: Int = 0
    /// The last failure, with what to check ("cannot resolve …", "authentication failed …").
    public var lastError: String?
}
