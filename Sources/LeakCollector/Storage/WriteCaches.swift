/// Maps from natural keys to row ids, so a steady stream of snapshots does no look-ups.
struct WriteCaches {
    var hostIDs: [String: Int64] = [:]
    var instanceIDs: [InstanceKey: Int64] = [:]
    /// Only ever holds rows that exist: emptied when a transaction rolls back, and the stack
    /// garbage collector removes what it deletes (under the same lock, in the same transaction).
    var stackIDs: [StackDigest: Stack] = [:]

    struct Stack {
        var id: Int64
        /// Not above the row's `lastSeenMs` (a verdict may raise the row's without telling).
        var lastSeenMs: Int64
    }

    struct InstanceKey: Hashable {
        var hostID: Int64
        var instanceKey: String
    }
}

