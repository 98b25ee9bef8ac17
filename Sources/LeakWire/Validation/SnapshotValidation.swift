/// The rules every Snapshot field keeps (docs/PROTOCOL.md, "Validation"), checked at the wire
/// boundary before anything is stored. Two parts:
///
/// * ``check(_:receivedAtUnixNanos:limits:)``: the snapshot on its own, against `SnapshotLimits`
///   and the receiver's clock. Stateless; any receiver can run it.
/// * ``checkContinuity(_:after:sequence:)``: cumulative counters against the previous accepted
///   snapshot of the same process instance. Only the collector has that snapshot (in memory per
///   connection, seeded from the store at Welcome), so the collector decides when to call it.
///
/// The first broken rule throws a `SnapshotViolation` naming the field; the fields are checked in
/// schema order, so the same snapshot always names the same field.
public enum SnapshotValidation {
    /// - Parameter processStartUnixNanos: the Hello's `process_start_unix_nanos` of the process that
    ///   sent the snapshot (nil: not known, only the fixed floor applies). Its timestamps may be
    ///   before it by no more than the skew (`SnapshotLimits.earliestTimestampUnixNanos(processStartUnixNanos:)`).
    public static func check(
        _ snapshot: Leakwatch_V1_Snapshot, receivedAtUnixNanos: Int64, processStartUnixNanos: Int64? = nil,
        limits: SnapshotLimits = .default
    ) throws(SnapshotViolation) {
        let checker = Checker(sequence: snapshot.sequence, limits: limits,
                              earliest: limits.earliestTimestampUnixNanos(processStartUnixNanos: processStartUnixNanos),
                              processStart: processStartUnixNanos,
                              latest: limits.latestTimestampUnixNanos(receivedAtUnixNanos: receivedAtUnixNanos))
        try checker.timestamp("timestamp_unix_nanos", snapshot.timestampUnixNanos)
        try checkStacks(snapshot, limits: limits)
        let stats = snapshot.stats
        try checker.counter("stats.total_allocated_bytes", stats.totalAllocatedBytes)
        try checker.counter("stats.current_bytes", stats.currentBytes)
        try checker.counter("stats.peak_bytes", stats.peakBytes)
        try checker.counter("stats.allocation_count", stats.allocationCount)
        try checker.counter("stats.free_count", stats.freeCount)
        try checker.counter("stats.blocks_outstanding", stats.blocksOutstanding.magnitude, shown: "\(stats.blocksOutstanding)",
                            expected: "-\(limits.maximumCounter)...\(limits.maximumCounter)")
        try checker.counter("stats.rss_bytes", stats.rssBytes)
        try checker.seconds("stats.uptime_seconds", stats.uptimeSeconds, maximum: limits.maximumUptimeSeconds)
        try checker.counter("overhead.tracker_bytes", snapshot.overhead.trackerBytes)
        try checker.counter("overhead.agent_heap_bytes", snapshot.overhead.agentHeapBytes)
        // upper_bound_bytes and ExactSize.size are sizes an application asked for, not amounts:
        // the last class is UINT64_MAX by the schema, and a failed malloc(SIZE_MAX) is a real request.
        for (index, sizeClass) in snapshot.sizeClasses.enumerated() {
            try checker.counter("size_classes[\(index)].count", sizeClass.count)
            try checker.counter("size_classes[\(index)].bytes", sizeClass.bytes)
        }
        for (index, size) in snapshot.topSizes.enumerated() {
            try checker.counter("top_sizes[\(index)].count", size.count)
        }
        for (index, site) in snapshot.sites.enumerated() {
            try checker.counter("sites[\(index)].live_bytes", site.liveBytes)
            try checker.counter("sites[\(index)].live_objects", site.liveObjects)
            try checker.counter("sites[\(index)].allocated_bytes", site.allocatedBytes)
            if site.hasTypeName { try checker.string("sites[\(index)].type_name", site.typeName) }
        }
        for (index, event) in snapshot.events.enumerated() {
            try checker.timestamp("events[\(index)].timestamp_unix_nanos", event.timestampUnixNanos)
            try checker.counter("events[\(index)].value", event.value)
            try checker.counter("events[\(index)].dropped_count", event.droppedCount)
            try checker.string("events[\(index)].message", event.message)
            try checker.counter("events[\(index)].threshold_bytes", event.thresholdBytes)
            // fault_address is an address, any 64-bit value; the rest are amounts.
            try checker.counter("events[\(index)].block_offset", event.blockOffset.magnitude, shown: "\(event.blockOffset)",
                                expected: "-\(limits.maximumCounter)...\(limits.maximumCounter)")
            try checker.counter("events[\(index)].block_size_bytes", event.blockSizeBytes)
            for (field, id) in [("access_stack_id", event.accessStackID), ("allocation_stack_id", event.allocationStackID),
                                ("free_stack_id", event.freeStackID)] {
                try checker.counter("events[\(index)].\(field)", id)
            }
        }
    }

    /// The rules of the snapshot's `stacks` alone (depth, string lengths): a receiver that rejects
    /// a snapshot for another field may still keep its stacks, which later snapshots on the same
    /// connection name by id only.
    public static func checkStacks(_ snapshot: Leakwatch_V1_Snapshot, limits: SnapshotLimits = .default) throws(SnapshotViolation) {
        let checker = Checker(sequence: snapshot.sequence, limits: limits, earliest: .min, processStart: nil, latest: .max)
        for (s, stack) in snapshot.stacks.enumerated() {
            guard stack.frames.count <= limits.maximumFramesPerStack else {
                throw SnapshotViolation.tooDeep.at("stacks[\(s)].frames", sequence: snapshot.sequence,
                    "has \(stack.frames.count) frames; expected at most \(limits.maximumFramesPerStack)")
            }
            for (f, frame) in stack.frames.enumerated() {
                try checker.string("stacks[\(s)].frames[\(f)].function", frame.function)
                try checker.string("stacks[\(s)].frames[\(f)].file", frame.file)
                try checker.string("stacks[\(s)].frames[\(f)].image", frame.image)
            }
        }
    }

    /// Cumulative counters of a later snapshot of one process instance must not be lower than in
    /// an earlier one. Checked: the totals since start, `total_allocated_bytes`,
    /// `allocation_count` and `free_count`. Not `peak_bytes`: the Swift agent reports it as an
    /// estimate within `peak_error_bound_bytes` (docs/AGENT.md), and other agents may sample it.
    /// Not `uptime_seconds`: agents derive it from the wall clock, which NTP may step back.
    public static func checkContinuity(
        _ current: SnapshotCounters, after previous: SnapshotCounters, sequence: UInt64
    ) throws(SnapshotViolation) {
        func monotone(_ field: String, _ now: UInt64, _ before: UInt64) throws(SnapshotViolation) {
            guard now >= before else {
                throw SnapshotViolation.ranBackwards.at(field, sequence: sequence,
                    "is \(now), lower than \(before) in snapshot \(previous.sequence) of the same process; "
                        + "expected a total that never decreases")
            }
        }
        try monotone("stats.total_allocated_bytes", current.totalAllocatedBytes, previous.totalAllocatedBytes)
        try monotone("stats.allocation_count", current.allocationCount, previous.allocationCount)
        try monotone("stats.free_count", current.freeCount, previous.freeCount)
    }

    private struct Checker {
        let sequence: UInt64
        let limits: SnapshotLimits
        /// The earliest timestamp accepted: the fixed floor, or later, the process's start less the skew.
        let earliest: Int64
        let processStart: Int64?
        let latest: Int64

        func counter(_ field: String, _ value: UInt64, shown: String? = nil, expected: String? = nil) throws(SnapshotViolation) {
            guard value <= limits.maximumCounter else {
                throw SnapshotViolation.aboveBound.at(field, sequence: sequence,
                    "is \(shown ?? String(value)); expected \(expected ?? "at most \(limits.maximumCounter) (2^56)")")
            }
        }

        func seconds(_ field: String, _ value: Double, maximum: Double) throws(SnapshotViolation) {
            guard value.isFinite else {
                throw SnapshotViolation.notFinite.at(field, sequence: sequence, "is \(value); expected a finite number of seconds")
            }
            guard value >= 0 else {
                throw SnapshotViolation.negative.at(field, sequence: sequence, "is \(value); expected 0 or more")
            }
            guard value <= maximum else {
                throw SnapshotViolation.aboveBound.at(field, sequence: sequence, "is \(value); expected at most \(maximum)")
            }
        }

        func timestamp(_ field: String, _ value: Int64) throws(SnapshotViolation) {
            guard value >= limits.earliestTimestampUnixNanos else {
                throw SnapshotViolation.tooEarly.at(field, sequence: sequence,
                    "is \(value) ns, before \(limits.earliestTimestampUnixNanos) (2020-01-01); is the agent's clock set?")
            }
            guard value >= earliest else {
                throw SnapshotViolation.beforeProcessStart.at(field, sequence: sequence,
                    "is \(value) ns, more than \(limits.maximumFutureSkewSeconds) s before the process started "
                        + "(Hello's process_start_unix_nanos \(processStart ?? 0)); expected a time while the process ran")
            }
            guard value <= latest else {
                throw SnapshotViolation.aheadOfCollector.at(field, sequence: sequence,
                    "is \(value) ns, more than \(limits.maximumFutureSkewSeconds) s ahead of the collector's clock "
                        + "(latest accepted \(latest)); check the agent host's clock (NTP)")
            }
        }

        func string(_ field: String, _ value: String) throws(SnapshotViolation) {
            let bytes = value.utf8.count
            guard bytes <= limits.maximumStringBytes else {
                throw SnapshotViolation.tooLong.at(field, sequence: sequence,
                    "is \(bytes) bytes long; expected at most \(limits.maximumStringBytes)")
            }
        }
    }
}

/// The cumulative counters of one snapshot, as the continuity rule compares them.
public struct SnapshotCounters: Sendable, Hashable {
    public var sequence: UInt64
    public var totalAllocatedBytes: UInt64
    public var allocationCount: UInt64
    public var freeCount: UInt64

    public init(sequence: UInt64, totalAllocatedBytes: UInt64, allocationCount: UInt64, freeCount: UInt64) {
        self.sequence = sequence
        self.totalAllocatedBytes = totalAllocatedBytes
        self.allocationCount = allocationCount
        self.freeCount = freeCount
    }

    public init(_ snapshot: Leakwatch_V1_Snapshot) {
        self.init(sequence: snapshot.sequence, totalAllocatedBytes: snapshot.stats.totalAllocatedBytes,
                  allocationCount: snapshot.stats.allocationCount, freeCount: snapshot.stats.freeCount)
    }
}
