import LeakWireCore

/// Snapshots taken but not yet acknowledged, oldest first, bounded by their encoded size.
///
/// Entries carry no stacks: the spool's `StackTable` keeps each stack's frames once, counted
/// by the entries that refer to it, so a long outage costs the numbers, not the frames.
///
/// When full, the oldest entries go. Those never sent are surely lost: their count rides on
/// the next snapshot as a SNAPSHOTS_DROPPED event (and, if that snapshot is itself dropped
/// unsent, on the one after, with its own count). Entries already sent once most likely
/// arrived and are not reported; if their connection failed first, the collector still sees
/// the gap in sequence numbers.
///
/// Entries always hold consecutive sequences (only the oldest are ever removed), so lookups
/// by sequence are O(1); removal from the front is amortised O(1).
struct ShipperSpool {
    struct Entry {
        var snapshot: Wire.Snapshot
        /// Protobuf-encoded size (without stacks).
        var byteCount: Int
        /// Drops this entry reports in its SNAPSHOTS_DROPPED event.
        var reportedDrops: UInt64
        /// Sent on some connection at least once.
        var sent = false
        /// The collector rejected it for good (a validation rule): never sent again. It keeps its
        /// place, so sequences stay consecutive, but no longer its payload.
        var rejected = false
    }

    let limitBytes: Int
    private var storage: [Entry] = []
    private var head = 0
    private(set) var byteCount = 0
    private(set) var stacks = StackTable()
    /// Drops not yet reported in any spooled snapshot.
    private(set) var unreportedDrops: UInt64 = 0
    /// Every drop since start, sent or not.
    private(set) var totalDrops: UInt64 = 0

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    var count: Int { storage.count - head }
    var entries: ArraySlice<Entry> { storage[head...] }
    var sequences: [UInt64] { entries.map(\.snapshot.sequence) }

    /// Adds a full snapshot: its stacks go to the table, the rest to a new entry. Then drops
    /// the oldest entries while over the limit, always keeping the newest.
    mutating func append(_ snapshot: Wire.Snapshot, reportedDrops: UInt64) {
        var entrySnapshot = snapshot
        entrySnapshot.stacks = []
        stacks.retain(entrySnapshot)
        stacks.learn(snapshot.stacks)
        let size = entrySnapshot.serializedBody().count
        storage.append(Entry(snapshot: entrySnapshot, byteCount: size, reportedDrops: reportedDrops))
        byteCount += size
        unreportedDrops -= min(unreportedDrops, reportedDrops)
        while byteCount > limitBytes && count > 1 {
            let dropped = removeOldest()
            if !dropped.sent { unreportedDrops += 1 + dropped.reportedDrops }
            totalDrops += 1
        }
    }

    mutating func markSent(sequence: UInt64) {
        guard let first = entries.first?.snapshot.sequence, sequence >= first else { return }
        let index = head + Int(sequence - first)
        if index < storage.count { storage[index].sent = true }
    }

    /// Drops the payload of an entry the collector will never accept, so it is not resent after a
    /// reconnect; the entry itself goes with the next cumulative ack. Returns false when no
    /// spooled entry has that sequence (already acknowledged or dropped).
    @discardableResult
    mutating func reject(sequence: UInt64) -> Bool {
        guard let first = entries.first?.snapshot.sequence, sequence >= first else { return false }
        let index = head + Int(sequence - first)
        guard index < storage.count, !storage[index].rejected else { return false }
        stacks.release(storage[index].snapshot)
        byteCount -= storage[index].byteCount
        storage[index].byteCount = 0
        storage[index].rejected = true
        storage[index].snapshot = Wire.Snapshot(sequence: sequence)
        return true
    }

    /// Forgets every entry the collector committed (sequence ≤ `sequence`). Returns how many.
    @discardableResult
    mutating func acknowledge(through sequence: UInt64) -> Int {
        var removed = 0
        while let first = entries.first, first.snapshot.sequence <= sequence {
            removeOldest()
            removed += 1
        }
        return removed
    }

    @discardableResult
    private mutating func removeOldest() -> Entry {
        let entry = storage[head]
        storage[head].snapshot = Wire.Snapshot()  // release its memory now
        head += 1
        byteCount -= entry.byteCount
        stacks.release(entry.snapshot)
        if head > 64 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return entry
    }
}
