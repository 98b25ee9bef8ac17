import LeakWireCore

/// Stack interning. The table keeps each stack's frames once, for as long as a spooled
/// snapshot refers to it (reference counts per stack id, updated as entries come and go); a
/// connection records which ids it has carried, so each stack's frames cross once per
/// connection and again after a reconnect.
struct StackTable {
    private var definitions: [UInt64: Wire.Stack] = [:]
    private var references: [UInt64: Int] = [:]

    var count: Int { definitions.count }

    /// Records the newest definitions of referenced stacks (the snapshot source sends every
    /// stack every time; one no site refers to is not kept).
    mutating func learn(_ stacks: [Wire.Stack]) {
        for stack in stacks where references[stack.id] != nil { definitions[stack.id] = stack }
    }

    func definition(_ id: UInt64) -> Wire.Stack? { definitions[id] }

    mutating func retain(_ snapshot: Wire.Snapshot) {
        for site in snapshot.sites { references[site.stackID, default: 0] += 1 }
    }

    mutating func release(_ snapshot: Wire.Snapshot) {
        for site in snapshot.sites {
            guard let count = references[site.stackID] else { continue }
            if count <= 1 {
                references[site.stackID] = nil
                definitions[site.stackID] = nil
            } else {
                references[site.stackID] = count - 1
            }
        }
    }

    /// The definitions `snapshot`'s sites need that `carried` lacks; adds them to `carried`.
    func missing(for snapshot: Wire.Snapshot, carried: inout Set<UInt64>) -> [Wire.Stack] {
        var stacks: [Wire.Stack] = []
        for site in snapshot.sites where !carried.contains(site.stackID) {
            carried.insert(site.stackID)
            if let stack = definitions[site.stackID] { stacks.append(stack) }
        }
        return stacks
    }
}
