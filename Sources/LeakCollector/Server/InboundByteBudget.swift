/// The collector-wide account of inbound bytes held in partial frames, and which connections
/// must stop reading until others release some: NIO back-pressure across connections.
///
/// ```
///   decoder after each read ──hold(n)──▶ ledger: total = Σ held
///
///   read() asked ──▶ held == 0 or total ≤ limit ──yes──▶ read
///                             │ no
///                             ▼
///                    parked (read withheld; TCP fills and slows the peer)
///                             │
///   a frame completes, or a connection closes, and total ≤ limit ──▶ every parked connection
///                                                                    is woken and asks again
/// ```
///
/// A connection that holds nothing may always read: otherwise a few peers that each park a
/// large partial frame would lock every good agent out (issue 15: 100 connections holding
/// 2 MiB each). It reads one batch (at most `maxMessagesPerRead` reads of the receive buffer),
/// and if that leaves a partial frame while the total is over the limit, it parks too. So the
/// bytes held stay below `limit + connections × one read batch`, and the attackers park until
/// the idle timeout (no complete frame) closes them.
///
/// I/O-free; `InboundByteBudget` puts it behind a lock and calls the wakers outside it.
struct InboundByteLedger<Waker: Sendable>: Sendable {
    let limitBytes: Int
    private(set) var totalBytes = 0
    private var held: [Int: Int] = [:]
    private var parked: [Int: Waker] = [:]

    init(limitBytes: Int) {
        self.limitBytes = limitBytes
    }

    /// Connections waiting for room.
    var parkedCount: Int { parked.count }

    /// Records that `connection` now holds `bytes` in a partial frame; the wakers of the parked
    /// connections when that makes room.
    mutating func setHeld(_ bytes: Int, by connection: Int) -> [Waker] {
        let before = held[connection] ?? 0
        if bytes == 0 { held[connection] = nil } else { held[connection] = bytes }
        totalBytes += bytes - before
        return bytes < before ? wakeAllIfRoom() : []
    }

    /// Whether `connection` may read now; if not, `waker` is kept and returned by the
    /// `setHeld` or `remove` that makes room.
    mutating func mayRead(_ connection: Int, waker: Waker) -> Bool {
        if held[connection] == nil || totalBytes <= limitBytes {
            parked[connection] = nil
            return true
        }
        parked[connection] = waker
        return false
    }

    /// Forgets a closed connection; the wakers of the parked connections when that makes room.
    mutating func remove(_ connection: Int) -> [Waker] {
        parked[connection] = nil
        return setHeld(0, by: connection)
    }

    private mutating func wakeAllIfRoom() -> [Waker] {
        guard totalBytes <= limitBytes, !parked.isEmpty else { return [] }
        defer { parked = [:] }
        return Array(parked.values)
    }
}

/// The shared `InboundByteLedger` of one server (`inboundBufferBudgetBytes`); each connection
/// has an `Account` in it.
final class InboundByteBudget: Sendable {
    typealias Waker = @Sendable () -> Void

    private let ledger: Locked<(ledger: InboundByteLedger<Waker>, nextConnection: Int)>

    init(limitBytes: Int) {
        ledger = Locked((InboundByteLedger(limitBytes: limitBytes), 0))
    }

    var limitBytes: Int { ledger.withLock { $0.ledger.limitBytes } }
    var totalBytes: Int { ledger.withLock { $0.ledger.totalBytes } }
    var parkedCount: Int { ledger.withLock { $0.ledger.parkedCount } }

    func openAccount() -> Account {
        let id = ledger.withLock { state in
            state.nextConnection += 1
            return state.nextConnection
        }
        return Account(budget: self, id: id)
    }

    fileprivate func setHeld(_ bytes: Int, by connection: Int) {
        ledger.withLock { $0.ledger.setHeld(bytes, by: connection) }.forEach { $0() }
    }

    fileprivate func mayRead(_ connection: Int, waker: @escaping Waker) -> Bool {
        ledger.withLock { $0.ledger.mayRead(connection, waker: waker) }
    }

    fileprivate func remove(_ connection: Int) {
        ledger.withLock { $0.ledger.remove(connection) }.forEach { $0() }
    }

    /// One connection's share. The decoder reports what it holds (only when it changes, so a
    /// peer whose frames arrive whole never takes the lock); the handler asks before `read()`.
    final class Account: Sendable {
        let budget: InboundByteBudget
        let id: Int

        fileprivate init(budget: InboundByteBudget, id: Int) {
            self.budget = budget
            self.id = id
        }

        func setHeld(_ bytes: Int) { budget.setHeld(bytes, by: id) }
        func mayRead(waker: @escaping Waker) -> Bool { budget.mayRead(id, waker: waker) }
        func close() { budget.remove(id) }
    }
}
