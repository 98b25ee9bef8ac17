/// The promise every backend keeps for the stack garbage collector: a stack row's `lastSeenMs` is
/// at least the time of everything that refers to it. Written ahead by `slackMs`, so a stack in
/// every snapshot costs one UPDATE an hour, not one per snapshot.
enum StackLastSeen {
    /// How far ahead of the snapshot being written a stack's `lastSeenMs` is set.
    static let slackMs: Int64 = 3_600_000

    /// `timestampMs` plus the slack, saturating: validation keeps new timestamps near the
    /// collector's clock, but a store written before it may hold any time.
    static func slacked(_ timestampMs: Int64) -> Int64 {
        let (sum, overflow) = timestampMs.addingReportingOverflow(slackMs)
        return overflow ? .max : sum
    }
}
