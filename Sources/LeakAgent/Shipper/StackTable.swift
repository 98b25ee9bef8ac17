import LeakWire

/// Stack interning. The table keeps the newest definition of every stack a spooled or recent
/// snapshot refers to; a connection records which ids it has carried, so each stack's frames
/// cross once per connection and again after a reconnect.
struct StackTable {
    private(set) var definitions: [UInt64: Leakwatch_V1_Stack] = [:]

    mutating func learn(_ stacks: [Leakwatch_V1_Stack]) {
        for stack in stacks { definitions[stack.id] = stack }
    }

    /// The definitions `snapshot`'s sites need that `carried` lacks; adds them to `carried`.
    func missing(for snapshot: Leakwatch_V1_Snapshot, carried: inout Set<UInt64>) -> [Leakwatch_V1_Stack] {
        var stacks: [Leakwatch_V1_Stack] = []
        for site in snapshot.sites where !carried.contains(site.stackID) {
            carried.insert(site.stackID)
            if let stack = definitions[site.stackID] { stacks.append(stack) }
        }
        return stacks
    }

    /// Keeps only the stacks still referred to by `snapshots`.
    mutating func prune<Snapshots: Sequence>(keeping snapshots: Snapshots) where Snapshots.Element == Leakwatch_V1_Snapshot {
        var referenced = Set<UInt64>()
        for snapshot in snapshots { for site in snapshot.sites { referenced.insert(site.stackID) } }
        if referenced.count < definitions.count { definitions = definitions.filter { referenced.contains($0.key) } }
    }
}
