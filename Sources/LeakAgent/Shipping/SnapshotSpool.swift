import LeakWire

/// Snapshots not yet acknowledged by the collector, oldest first, bounded in bytes.
///
/// Spooled snapshots carry no stack definitions: those live once in `stacks`, so a long outage
/// costs the size of the numbers, not of the frames. When full, the oldest snapshots go and are
/// counted, so the next snapshot can report the loss.
struct SnapshotSpool {
    private(set) var entries: [(snapshot: Leakwatch_V1_Snapshot, byteCount: Int)] = []
    private(set) var byteCount = 0
    private(set) var stacks: [UInt64: Leakwatch_V1_Stack] = [:]
    let limitBytes: Int
    /// Dropped since the last call to `takeDroppedCount`.
    private var droppedCount: UInt64 = 0

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    mutating func append(_ snapshot: Leakwatch_V1_Snapshot) {
        var stackless = snapshot
        for stack in snapshot.stacks { stacks[stack.id] = stack }
        stackless.stacks = []
        let size = (try? stackless.serializedBytes() as [UInt8])?.count ?? 0
        entries.append((stackless, size))
        byteCount += size
        while byteCount > limitBytes, entries.count > 1 {
            byteCount -= entries.removeFirst().byteCount
            droppedCount += 1
        }
        pruneStacks()
    }

    /// Forgets every snapshot with a sequence up to `sequence`, which the collector committed.
    mutating func acknowledge(through sequence: UInt64) {
        let before = entries.count
        while let first = entries.first, first.snapshot.sequence <= sequence {
            byteCount -= first.byteCount
            entries.removeFirst()
        }
        if entries.count != before { pruneStacks() }
    }

    mutating func takeDroppedCount() -> UInt64 {
        defer { droppedCount = 0 }
        return droppedCount
    }

    func stack(_ id: UInt64) -> Leakwatch_V1_Stack? { stacks[id] }

    // Stack definitions only while a spooled snapshot refers to them, plus the newest snapshot's
    // (the next snapshot most likely repeats them).
    private mutating func pruneStacks() {
        guard stacks.count > 4096 || entries.isEmpty == false else { return }
        var referenced = Set<UInt64>()
        for entry in entries { for site in entry.snapshot.sites { referenced.insert(site.stackID) } }
        if referenced.count < stacks.count { stacks = stacks.filter { referenced.contains($0.key) } }
    }
}
