import CLeakTrackAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The agent's half of the guarded pool's reports (CLeakTrack's guard_errors.c). The fault handler
/// may not allocate or lock, so it records the error, writes its raw report and rings this
/// doorbell; this thread takes the error, names its stacks, prints the symbolized report under the
/// raw one, gives it to `record` (the snapshot builder) and calls `ship`, which returns once the
/// collector has it or cannot have it. Then it tells the core the error is settled: a thread that
/// dies of it (crash mode) waits for that, at most LT_GUARD_SETTLE_MILLISECONDS.
final class GuardErrorReporter: Sendable {
    private let record: @Sendable (MemoryErrorReport) -> Void
    private let ship: @Sendable () -> Void
    private let doorbell = GuardErrorReporter.processDoorbell()
    private let stopping = Atomic<Bool>(false)

    /// One doorbell per process, never closed: the fault handler may have read its descriptor just
    /// before an agent stops, and a closed descriptor's number may be the program's next file,
    /// which must not get a stray byte. A forked child shares its parent's pipe, so it makes its own
    /// (the core forgot the parent's at the fork).
    private static let doorbells = Mutex<(owner: pid_t, doorbell: ShipperDoorbell)?>(nil)

    private static func processDoorbell() -> ShipperDoorbell {
        doorbells.withLock { current in
            if let current, current.owner == getpid() { return current.doorbell }
            let doorbell = ShipperDoorbell()
            current = (getpid(), doorbell)
            return doorbell
        }
    }

    /// nil while the pool is off: nothing to report.
    init?(record: @escaping @Sendable (MemoryErrorReport) -> Void, ship: @escaping @Sendable () -> Void) {
        var stats = lt_guard_stats()
        lt_read_guard_stats(&stats)
        guard stats.slot_count > 0, doorbell.writeDescriptor >= 0 else { return nil }
        self.record = record
        self.ship = ship
    }

    func start() {
        lt_guard_set_reporter(doorbell.writeDescriptor)
        let thread = AgentThread.spawn(name: "leakwatch-guard") { [self] in
            // Errors caught before the agent started wait in the ring too.
            while !stopping.load(ordering: .acquiring) {
                lt_agent_work_begin() // a fork waits for this work, as for the shipper's
                let reports = takeAndName()
                reports.forEach(record)
                lt_agent_work_end()
                // Outside the gate: the shipper's work takes it too.
                if !reports.isEmpty { ship() }
                for report in reports { lt_guard_error_settled(report.error.sequence) }
                doorbell.wait(seconds: 5)
            }
            doorbell.ring() // what woke a stopping reporter may be its successor's
        }
        // No thread, no reporter: a dying thread must not wait for one.
        if thread == nil { lt_guard_set_reporter(-1) }
    }

    /// The thread ends at its next wake; the descriptor is the core's no longer.
    func stop() {
        lt_guard_set_reporter(-1)
        stopping.store(true, ordering: .releasing)
        doorbell.ring()
    }

    /// Every error recorded and not taken yet, named and printed.
    private func takeAndName() -> [MemoryErrorReport] {
        var reports: [MemoryErrorReport] = []
        var raw = lt_guard_error()
        while lt_guard_take_error(&raw) != 0 {
            let report = MemoryErrorReport.naming(MemoryError(raw), with: .shared, caughtAtUnixNanos: WallClock.nowUnixNanos())
            StandardError.write(report.text())
            reports.append(report)
        }
        return reports
    }
}
