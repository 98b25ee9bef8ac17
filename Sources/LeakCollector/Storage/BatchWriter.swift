import Dispatch
import Logging

/// Groups snapshots from every connection into few transactions (group commit).
///
/// Connections submit snapshots with a completion; one writer thread drains everything
/// queued into a single transaction, commits, then calls the completions, so a completion
/// (and the Ack it sends) always follows the commit. While one transaction is being written,
/// new submissions accumulate for the next: the busier the collector, the larger the batches.
public final class BatchWriter: Sendable {
    public typealias Completion = @Sendable (Result<IngestOutcome, any Error>) -> Void

    private struct Pending {
        var snapshot: SnapshotIngest
        var completion: Completion
    }

    private struct State {
        var queue: [Pending] = []
        var writing = false
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var committedSnapshots = 0
        var transactions = 0
    }

    public let store: any FleetStore
    /// Most snapshots written in one transaction.
    public let maximumBatchSize: Int
    private let state = Locked(State())
    private let thread = DispatchQueue(label: "leakwatch.store-writer", qos: .userInitiated)
    private let logger: Logger
    private let metrics: CollectorMetrics
    /// Told of every committed snapshot that carried memory errors.
    private let alerts: AlertHook?

    public convenience init(store: any FleetStore, maximumBatchSize: Int = 4096, logger: Logger) {
        self.init(store: store, maximumBatchSize: maximumBatchSize, logger: logger, metrics: CollectorMetrics(), alerts: nil)
    }

    init(store: any FleetStore, maximumBatchSize: Int, logger: Logger, metrics: CollectorMetrics, alerts: AlertHook?) {
        self.store = store
        self.maximumBatchSize = maximumBatchSize
        self.logger = logger
        self.metrics = metrics
        self.alerts = alerts
    }

    /// Queues a snapshot; `completion` runs on the writer thread after its transaction commits
    /// (or fails). After `close()`, completes at once with `StoreError.closed`.
    public func submit(_ snapshot: SnapshotIngest, completion: @escaping Completion) {
        let start = state.withLock { state -> Bool? in
            if state.closed { return nil }
            state.queue.append(Pending(snapshot: snapshot, completion: completion))
            if state.writing { return false }
            state.writing = true
            return true
        }
        switch start {
        case nil: completion(.failure(StoreError.closed))
        case true?: thread.async { self.writeLoop() }
        case false?: break
        }
    }

    /// Queues a snapshot and waits until it is committed.
    public func submit(_ snapshot: SnapshotIngest) async throws -> IngestOutcome {
        try await withCheckedThrowingContinuation { continuation in
            submit(snapshot) { continuation.resume(with: $0) }
        }
    }

    /// Snapshots queued and not yet committed.
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// (snapshots committed, transactions) since start.
    public var counters: (snapshots: Int, transactions: Int) {
        state.withLock { ($0.committedSnapshots, $0.transactions) }
    }

    /// Refuses new snapshots and waits until everything queued is committed.
    public func close() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                state.closed = true
                if !state.writing && state.queue.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func writeLoop() {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let count = min(state.queue.count, maximumBatchSize)
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return batch
            }
            if batch.isEmpty {
                let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                    // A submission may have slipped in between the two locks.
                    if !state.queue.isEmpty { return nil }
                    state.writing = false
                    defer { state.idleWaiters = [] }
                    return state.idleWaiters
                }
                guard let waiters else { continue }
                waiters.forEach { $0.resume() }
                return
            }
            write(batch)
        }
    }

    private func write(_ batch: [Pending]) {
        do {
            let started = ContinuousClock.now
            let outcomes = try store.ingest(batch.map(\.snapshot))
            metrics.commitDuration.record(ContinuousClock.now - started)
            state.withLock {
                $0.committedSnapshots += batch.count
                $0.transactions += 1
            }
            var stored = 0
            for (pending, outcome) in zip(batch, outcomes) where outcome == .stored {
                stored += 1
                if let alerts, let first = pending.snapshot.memoryErrors.map(\.timestampMs).min() {
                    let process = pending.snapshot.process
                    alerts.submit(.memoryErrors(hostName: process.hostName, serviceName: process.serviceName, fromMs: first))
                }
            }
            metrics.ingestedSnapshots.increment(by: Int64(stored))
            for (pending, outcome) in zip(batch, outcomes) { pending.completion(.success(outcome)) }
        } catch {
            guard batch.count > 1 else {
                logger.warning("snapshot not stored", metadata: ["leak.error": "\(error)"])
                batch[0].completion(.failure(error))
                return
            }
            // One bad snapshot must not fail the others: write them one by one.
            for pending in batch { write([pending]) }
        }
    }
}
