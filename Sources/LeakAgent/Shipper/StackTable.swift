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
        for id in snapshot.referencedStackIDs { references[id, default: 0] += 1 }
    }

    mutating func release(_ snapshot: Wire.Snapshot) {
        for id in snapshot.referencedStackIDs {
            guard let count = references[id] else { continue }
            if count <= 1 {
                references[id] = nil
                definitions[id] = nil
            } else {
                references[id] = count - 1
            }
        }
    }

    /// The definitions `snapshot`'s sites and events need that `carried` lacks; adds them to `carried`.
    func missing(for snapshot: Wire.Snapshot, carried: inout Set<UInt64>) -> [Wire.Stack] {
        var stacks: [Wire.Stack] = []
        for id in snapshot.referencedStackIDs where !carried.contains(id) {
            carried.insert(id)
            if let stack = definitions[id] { stacks.append(stack) }
        }
        return stacks
    }
}

extension Wire.Snapshot {
    /// The stack ids its sites and events name, each once, in order of first mention.
    var referencedStackIDs: [UInt64] {
        var seen = Set<UInt64>()
        return (sites.map(\.stackID) + events.flatMap(\.stackIDs)).filter { seen.insert($0).inserted }
    }
}
