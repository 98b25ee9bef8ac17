import LeakWire

/// Snapshots taken but not yet acknowledged, oldest first, bounded by their encoded size.
///
/// Entries carry no stacks: `StackTable` keeps each stack's frames once, so a long outage
/// costs the numbers, not the frames. When full, the oldest entries go. Those never sent are
/// surely lost: their count rides on the next snapshot as a SNAPSHOTS_DROPPED event (and, if
/// that snapshot is itself dropped unsent, on the one after, with its own count). Entries
/// already sent once most likely arrived and are not reported; if their connection failed
/// first, the collector still sees the gap in sequence numbers.
struct ShipperSpool {
    struct Entry {
        var snapshot: Leakwatch_V1_Snapshot
        /// Protobuf-encoded size (without stacks).
        var byteCount: Int
        /// Drops this entry reports in its SNAPSHOTS_DROPPED event.
        var reportedDrops: UInt64
        /// Sent on some connection at least once.
        var sent = false
    }

    let limitBytes: Int
    private(set) var entries: [Entry] = []
    private(set) var byteCount = 0
    /// Drops not yet reported in any spooled snapshot.
    private(set) var unreportedDrops: UInt64 = 0
    /// Every drop since start, sent or not.
    private(set) var totalDrops: UInt64 = 0

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    var sequences: [UInt64] { entries.map(\.snapshot.sequence) }

    /// Adds a snapshot (stacks already removed), then drops the oldest entries while over the
    /// limit, always keeping the newest.
    mutating func append(_ snapshot: Leakwatch_V1_Snapshot, reportedDrops: UInt64) {
        let size = (try? snapshot.serializedBytes() as [UInt8])?.count ?? 0
        entries.append(Entry(snapshot: snapshot, byteCount: size, reportedDrops: reportedDrops))
        byteCount += size
        unreportedDrops -= min(unreportedDrops, reportedDrops)
        while byteCount > limitBytes && entries.count > 1 {
            let dropped = entries.removeFirst()
            byteCount -= dropped.byteCount
            if !dropped.sent { unreportedDrops += 1 + dropped.reportedDrops }
            totalDrops += 1
        }
    }

    mutating func markSent(sequence: UInt64) {
        if let index = entries.firstIndex(where: { $0.snapshot.sequence == sequence }) { entries[index].sent = true }
    }

    /// Forgets every entry the collector committed (sequence ≤ `sequence`). Returns how many.
    @discardableResult
    mutating func acknowledge(through sequence: UInt64) -> Int {
        var count = 0
        while let first = entries.first, first.snapshot.sequence <= sequence {
            byteCount -= first.byteCount
            entries.removeFirst()
            count += 1
        }
        return count
    }
}
