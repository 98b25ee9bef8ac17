import LeakWire

/// docs/PROTOCOL.md section 7's validation table, restated from the document rather than from
/// `SnapshotValidation`: every field that breaks a rule, named as the schema names it. The harness
/// holds the two to agreement: accepted means no field here, rejected means the named one is here.
enum SnapshotRules {
    static func violations(_ snapshot: Leakwatch_V1_Snapshot, receivedAtUnixNanos: Int64,
                           limits: SnapshotLimits) -> Set<String> {
        var broken: Set<String> = []
        func counter(_ field: String, _ value: UInt64) {
            if value > 1 << 56 { broken.insert(field) }
        }
        func timestamp(_ field: String, _ value: Int64) {
            // 2020-01-01T00:00:00Z up to 300 s ahead of the collector's clock.
            if value < 1_577_836_800_000_000_000 || Int128(value) > Int128(receivedAtUnixNanos) + 300_000_000_000 {
                broken.insert(field)
            }
        }
        func text(_ field: String, _ value: String) {
            if value.utf8.count > 16 << 10 { broken.insert(field) }
        }
        timestamp("timestamp_unix_nanos", snapshot.timestampUnixNanos)
        for (s, stack) in snapshot.stacks.enumerated() {
            if stack.frames.count > 256 { broken.insert("stacks[\(s)].frames") }
            for (f, frame) in stack.frames.enumerated() {
                text("stacks[\(s)].frames[\(f)].function", frame.function)
                text("stacks[\(s)].frames[\(f)].file", frame.file)
                text("stacks[\(s)].frames[\(f)].image", frame.image)
            }
        }
        let stats = snapshot.stats
        counter("stats.total_allocated_bytes", stats.totalAllocatedBytes)
        counter("stats.current_bytes", stats.currentBytes)
        counter("stats.peak_bytes", stats.peakBytes)
        counter("stats.allocation_count", stats.allocationCount)
        counter("stats.free_count", stats.freeCount)
        if stats.blocksOutstanding.magnitude > 1 << 56 { broken.insert("stats.blocks_outstanding") }
        counter("stats.rss_bytes", stats.rssBytes)
        let uptime = stats.uptimeSeconds
        if !(uptime.isFinite && uptime >= 0 && uptime <= 4_294_967_296) { broken.insert("stats.uptime_seconds") }
        counter("overhead.tracker_bytes", snapshot.overhead.trackerBytes)
        counter("overhead.agent_heap_bytes", snapshot.overhead.agentHeapBytes)
        for (i, sizeClass) in snapshot.sizeClasses.enumerated() {
            counter("size_classes[\(i)].count", sizeClass.count)
            counter("size_classes[\(i)].bytes", sizeClass.bytes)
        }
        for (i, size) in snapshot.topSizes.enumerated() { counter("top_sizes[\(i)].count", size.count) }
        for (i, site) in snapshot.sites.enumerated() {
            counter("sites[\(i)].live_bytes", site.liveBytes)
            // The table says "*_bytes, *_count and count"; live_objects is a count by another name.
            counter("sites[\(i)].live_objects", site.liveObjects)
            counter("sites[\(i)].allocated_bytes", site.allocatedBytes)
            if site.hasTypeName { text("sites[\(i)].type_name", site.typeName) }
        }
        for (i, event) in snapshot.events.enumerated() {
            timestamp("events[\(i)].timestamp_unix_nanos", event.timestampUnixNanos)
            counter("events[\(i)].value", event.value)
            counter("events[\(i)].dropped_count", event.droppedCount)
            text("events[\(i)].message", event.message)
            counter("events[\(i)].threshold_bytes", event.thresholdBytes)
            if event.blockOffset.magnitude > 1 << 56 { broken.insert("events[\(i)].block_offset") }
            counter("events[\(i)].block_size_bytes", event.blockSizeBytes)
            counter("events[\(i)].access_stack_id", event.accessStackID)
            counter("events[\(i)].allocation_stack_id", event.allocationStackID)
            counter("events[\(i)].free_stack_id", event.freeStackID)
        }
        // Checked against the defaults the table documents; a harness with other limits must say so.
        invariant(limits == .default, "SnapshotRules restates the default limits only")
        return broken
    }
}
