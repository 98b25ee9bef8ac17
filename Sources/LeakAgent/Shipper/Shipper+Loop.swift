import LeakWireCore

extension Shipper {
    /// One connection's state on the shipper thread.
    struct Session {
        let connection: BlockingConnection
        /// Highest sequence this connection has carried (or Welcome acknowledged).
        var sentThrough: UInt64
        /// Stack ids whose frames this connection has carried.
        var carriedStacks: Set<UInt64> = []
    }

    /// Longest sleep of the shipper thread, whatever the schedule.
    static let longestSleepSeconds = 5.0

    func run() {
        var spool = ShipperSpool(limitBytes: configuration.spoolLimitBytes)
        var backoff = ShipperBackoff(minimumSeconds: configuration.backoffMinimumSeconds,
                                     maximumSeconds: configuration.backoffMaximumSeconds)
        var session: Session?
        var sequence: UInt64 = 0
        var nextSnapshotAt = ShipperClock.monotonicSeconds()
        var lastSnapshotAt = -Double.infinity
        var immediatePending = false
        var reconnectAt = 0.0

        while !stopping.load(ordering: .acquiring) {
            let now = ShipperClock.monotonicSeconds()
            let due = now >= nextSnapshotAt
            if immediateRequested.exchange(false, ordering: .acquiringAndReleasing) { immediatePending = true }
            // Immediate requests are spaced, so a flapping threshold cannot flood the collector.
            let immediateAllowed = immediatePending && now >= lastSnapshotAt + configuration.minimumImmediateSpacingSeconds
            if due || immediateAllowed {
                sequence += 1
                sequenceTaking.store(sequence, ordering: .releasing)
                takeSnapshot(sequence: sequence, spool: &spool)
                lastSnapshotAt = now
                immediatePending = false
                if due {
                    nextSnapshotAt += configuration.intervalSeconds
                    // Behind by more than an interval (a long stall): skip, do not burst.
                    if nextSnapshotAt <= now { nextSnapshotAt = now + configuration.intervalSeconds }
                }
            }

            if session == nil && now >= reconnectAt {
                do {
                    session = try connect(spool: &spool)
                    connectedDescriptor.store(session?.connection.descriptorForPolling ?? -1, ordering: .releasing)
                    backoff.reset()
                } catch {
                    record(error, connecting: true)
                    reconnectAt = ShipperClock.monotonicSeconds() + backoff.nextDelaySeconds()
                }
            }

            if var current = session {
                do {
                    try sendUnsent(spool: &spool, session: &current)
                    while let message = try current.connection.receive(Wire.CollectorMessage.self, timeoutSeconds: 0) {
                        try handle(message, spool: &spool)
                    }
                    session = current
                } catch {
                    record(error, connecting: false)
                    connectedDescriptor.store(-1, ordering: .releasing)
                    current.connection.close()
                    session = nil
                    reconnectAt = ShipperClock.monotonicSeconds() + backoff.nextDelaySeconds()
                }
            }
            state.withLock {
                $0.spooledSnapshots = spool.count
                $0.spooledBytes = spool.byteCount
            }

            // Sleep until the next snapshot or reconnect, a doorbell, or (connected) an incoming
            // frame. The cap only bounds how stale the statistics can get.
            let after = ShipperClock.monotonicSeconds()
            var wait = min(nextSnapshotAt - after, Self.longestSleepSeconds)
            if session == nil { wait = min(wait, reconnectAt - after) }
            if immediatePending { wait = min(wait, lastSnapshotAt + configuration.minimumImmediateSpacingSeconds - after) }
            if wait > 0 {
                let readable = session?.connection.descriptorForPolling ?? -1
                if let workGate {
                    workGate.waiting { doorbell.wait(seconds: wait, orReadable: readable) }
                } else {
                    doorbell.wait(seconds: wait, orReadable: readable)
                }
            }
        }
        connectedDescriptor.store(-1, ordering: .releasing)
        session?.connection.close()
    }

    private func takeSnapshot(sequence: UInt64, spool: inout ShipperSpool) {
        var snapshot = source()
        snapshot.sequence = sequence
        if snapshot.timestampUnixNanos == 0 { snapshot.timestampUnixNanos = ShipperClock.wallUnixNanos() }
        let drops = spool.unreportedDrops
        if drops > 0 {
            snapshot.events.append(Wire.Event(
                kind: .snapshotsDropped, timestampUnixNanos: snapshot.timestampUnixNanos, droppedCount: drops,
                message: "the shipper's spool was full: \(drops) unacknowledged snapshots were dropped, oldest first"))
        }
        let dropsBefore = spool.totalDrops
        spool.append(snapshot, reportedDrops: drops)
        let newDrops = spool.totalDrops - dropsBefore
        state.withLock {
            $0.snapshotsTaken += 1
            $0.snapshotsDropped += newDrops
        }
    }

    private func connect(spool: inout ShipperSpool) throws -> Session {
        var options = configuration.connectionOptions
        options.waitHooks = workGate
        let connection = try BlockingConnection.connect(
            host: configuration.collectorHost, port: configuration.collectorPort, options: options,
            isCancelled: { [self] in stopping.load(ordering: .relaxed) })
        let welcome = try connection.handshake(hello: configuration.hello, token: configuration.token)
        let acknowledged = spool.acknowledge(through: welcome.lastAcknowledgedSequence)
        sequenceAcknowledged.store(welcome.lastAcknowledgedSequence, ordering: .releasing)
        state.withLock {
            $0.connectionsEstablished += 1
            $0.snapshotsAcknowledged += UInt64(acknowledged)
            $0.lastError = nil
        }
        return Session(connection: connection, sentThrough: welcome.lastAcknowledgedSequence)
    }

    /// Sends, in order, every spooled snapshot this connection has not carried, each with the
    /// stacks this connection has not carried.
    private func sendUnsent(spool: inout ShipperSpool, session: inout Session) throws {
        for entry in spool.entries where entry.snapshot.sequence > session.sentThrough && !entry.rejected {
            var snapshot = entry.snapshot
            snapshot.stacks = spool.stacks.missing(for: snapshot, carried: &session.carriedStacks)
            let bytes = try session.connection.send(snapshot)
            session.sentThrough = snapshot.sequence
            spool.markSent(sequence: snapshot.sequence)
            state.withLock {
                $0.snapshotsSent += 1
                $0.bytesSent += UInt64(bytes)
            }
        }
    }

    private func handle(_ message: Wire.CollectorMessage, spool: inout ShipperSpool) throws {
        switch message {
        case .ack(let ack):
            let count = spool.acknowledge(through: ack.sequence)
            sequenceAcknowledged.store(ack.sequence, ordering: .releasing)
            state.withLock { $0.snapshotsAcknowledged += UInt64(count) }
        case .error(let error):
            // A snapshot the collector can never accept is dropped, not resent on every reconnect
            // (issue 15: one NaN wedged an agent for good). Anything else (INTERNAL, SHUTTING_DOWN)
            // is the collector's trouble: reconnect with backoff and resend.
            guard let sequence = error.rejectedSnapshotSequence else {
                throw ShipperFailure("the collector reported \(error.code): \(error.message)")
            }
            let dropped = spool.reject(sequence: sequence)
            failuresToShip.add(1, ordering: .releasing)
            let text = "the collector rejected snapshot \(sequence), dropped it: \(error.message)"
            state.withLock {
                if dropped { $0.snapshotsRejected += 1 }
                $0.lastError = text
            }
            warnAtMostPeriodically(text)
        default:
            throw ShipperFailure("the collector sent an unexpected \(message.name) frame; reconnecting")
        }
    }

    private func record(_ error: any Error, connecting: Bool) {
        failuresToShip.add(1, ordering: .releasing)
        // Abandoned because stop() was called: not a failure worth reporting.
        if stopping.load(ordering: .acquiring) { return }
        let text = connecting
            ? "cannot ship to \(configuration.collectorHost):\(configuration.collectorPort): \(error)"
            : "lost the connection to \(configuration.collectorHost):\(configuration.collectorPort): \(error)"
        state.withLock {
            $0.connectionFailures += 1
            $0.lastError = text
        }
        // The program closed the agent's socket (daemons close every descriptor they did not
        // open): reconnecting is all there is to do, and the program's stderr is its own.
        if (error as? WireError) == .descriptorLost { return }
        warnAtMostPeriodically(text, retrying: true)
    }

    /// `warn`, at most one line every `warningIntervalSeconds` whatever the failure.
    private func warnAtMostPeriodically(_ text: String, retrying: Bool = false) {
        guard let warn else { return }
        let now = ShipperClock.monotonicSeconds()
        let due = lastWarningAt.withLock { last in
            guard now >= last + configuration.warningIntervalSeconds else { return false }
            last = now
            return true
        }
        let limit = "at most one such line every \(Int(configuration.warningIntervalSeconds)) s"
        if due { warn("\(text) (\(retrying ? "retrying; " : "")\(limit))") }
    }
}

struct ShipperFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
