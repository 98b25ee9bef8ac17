import LeakWireCore
import Synchronization

/// Builds the snapshot the shipper sends: stats, patterns, live sites with their full stacks
/// (the shipper interns them per connection), and the events since the last snapshot with the
/// stacks they refer to.
final class SnapshotBuilder: Sendable {
    /// Events not yet taken by a snapshot, and the stacks of theirs no snapshot has carried.
    private let pending = Mutex<(events: [Wire.Event], stacks: [Wire.Stack])>(([], []))
    /// A stack as the agent knows it: a sampled site's (the core's stack id) or a memory error's
    /// (its return addresses).
    private enum StackKey: Hashable {
        case site(UInt64)
        case addresses([UInt64])
    }
    /// Wire stack ids: small numbers in order of first appearance, stable for the process's life
    /// (a 64-bit hash costs 10 bytes per site in every snapshot; the collector identifies stacks by
    /// their frames, not by this id).
    private let wireStackIDs = Mutex<[StackKey: UInt64]>([:])
    private let processStartUnixNanos: Int64
    private let siteLimit: Int

    init(processStartUnixNanos: Int64, siteLimit: Int = 500) {
        self.processStartUnixNanos = processStartUnixNanos
        self.siteLimit = siteLimit
    }

    func record(_ crossing: ThresholdCrossing) {
        var event = Wire.Event()
        event.kind = switch crossing.to {
        case .critical: .thresholdCritical
        case .warning: crossing.from == .critical ? .thresholdCleared : .thresholdWarning
        case .normal: .thresholdCleared
        }
        event.timestampUnixNanos = crossing.timestampUnixNanos
        event.value = crossing.valueBytes
        event.thresholdBytes = crossing.thresholdBytes
        event.message = "\(crossing.metric.rawValue) \(crossing.from) -> \(crossing.to)"
        pending.withLock { $0.events.append(event) }
    }

    func recordError(_ message: String) {
        var event = Wire.Event()
        event.kind = .agentError
        event.timestampUnixNanos = WallClock.nowUnixNanos()
        event.message = message
        pending.withLock { $0.events.append(event) }
    }

    /// A MEMORY_ERROR event, its stacks interned like sites' (0: no such stack).
    func record(_ report: MemoryErrorReport) {
        let error = report.error
        var event = Wire.Event(kind: .memoryError, timestampUnixNanos: report.caughtAtUnixNanos, message: report.headline)
        event.memoryErrorKind = error.kind
        event.access = error.access
        event.faultAddress = error.address
        event.blockOffset = error.offset
        event.blockSizeBytes = error.blockSizeBytes
        event.threadID = UInt32(bitPattern: error.thread)
        event.recovered = !error.crash
        var stacks: [Wire.Stack] = []
        func intern(_ addresses: [UInt64], _ frames: [StackFrame]) -> UInt64 {
            guard !addresses.isEmpty else { return 0 }
            // Sent with every event, as sites' stacks with every snapshot: the shipper keeps a
            // definition only while a spooled snapshot refers to it.
            let id = wireStackID(for: .addresses(addresses))
            stacks.append(wireStack(id: id, frames: frames))
            return id
        }
        event.accessStackID = intern(error.accessFrames, report.accessStack)
        event.allocationStackID = intern(error.allocationFrames, report.allocationStack)
        event.freeStackID = intern(error.freeFrames, report.freeStack)
        pending.withLock {
            $0.events.append(event)
            $0.stacks += stacks
        }
    }

    private func wireStackID(for key: StackKey) -> UInt64 {
        wireStackIDs.withLock { table in
            if let id = table[key] { return id }
            let id = UInt64(table.count + 1)
            table[key] = id
            return id
        }
    }

    private func wireStack(id: UInt64, frames: [StackFrame]) -> Wire.Stack {
        let imageOffsets = Symbolizer.shared.imageOffsets(forAddresses: frames.map(\.address))
        return Wire.Stack(id: id, frames: zip(frames, imageOffsets).map { frame, imageOffset in
            Wire.Frame(function: frame.function, file: frame.file ?? "", line: UInt32(clamping: frame.line ?? 0),
                       image: frame.image, address: frame.address, imageOffset: imageOffset, inlined: frame.isInlined)
        })
    }

    func build() -> Wire.Snapshot {
        let now = WallClock.nowUnixNanos()
        let heap = HeapStats.read()
        let patterns = AllocationPatterns.read(topSizeLimit: 16)
        let sites = AllocationSite.read().filter { $0.liveBytes > 0 }.prefix(siteLimit)

        var snapshot = Wire.Snapshot()
        snapshot.timestampUnixNanos = now
        snapshot.stats = Wire.Stats(
            totalAllocatedBytes: heap.totalAllocatedBytes,
            currentBytes: heap.currentBytes,
            peakBytes: heap.peakBytes,
            allocationCount: heap.allocationCount,
            freeCount: heap.freeCount,
            blocksOutstanding: Int64(heap.allocationCount) - Int64(heap.freeCount),
            rssBytes: ProcessMemory.residentBytes() ?? 0,
            // Wall-clock based: a clock stepped back before the start reads negative, which the
            // collector rejects (docs/PROTOCOL.md, "Validation").
            uptimeSeconds: max(0, Double(now - processStartUnixNanos) / 1e9))
        snapshot.overhead = Wire.AgentOverhead(trackerBytes: heap.trackerMappedBytes, agentHeapBytes: heap.agentHeapBytes)
        snapshot.sizeClasses = patterns.sizeClasses.map {
            Wire.SizeClass(upperBoundBytes: $0.upperBoundBytes, count: $0.count, bytes: $0.bytes)
        }
        snapshot.topSizes = patterns.topSizes.map { Wire.ExactSize(size: $0.size, count: $0.count) }
        for site in sites {
            let wireID = wireStackID(for: .site(site.stackID))
            snapshot.sites.append(Wire.Site(stackID: wireID, liveBytes: site.liveBytes, liveObjects: site.liveObjects,
                                            allocatedBytes: site.allocatedBytes, typeName: site.typeName))
            snapshot.stacks.append(wireStack(id: wireID, frames: site.frames))
        }
        let (events, eventStacks) = pending.withLock { pending in
            defer { pending = ([], []) }
            return pending
        }
        snapshot.events = events
        snapshot.stacks += eventStacks
        return snapshot
    }
}
