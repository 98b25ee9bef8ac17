import LeakWireCore
import Synchronization

/// Builds the snapshot the shipper sends: stats, patterns, live sites with their full stacks
/// (the shipper interns them per connection), and the events since the last snapshot.
final class SnapshotBuilder: Sendable {
    private let pendingEvents = Mutex<[Wire.Event]>([])
    /// Wire stack ids: small numbers in order of first appearance, stable for the process's life
    /// (a 64-bit hash costs 10 bytes per site in every snapshot; the collector identifies stacks by
    /// their frames, not by this id).
    private let wireStackIDs = Mutex<[UInt64: UInt64]>([:])
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
        pendingEvents.withLock { $0.append(event) }
    }

    func recordError(_ message: String) {
        var event = Wire.Event()
        event.kind = .agentError
        event.timestampUnixNanos = WallClock.nowUnixNanos()
        event.message = message
        pendingEvents.withLock { $0.append(event) }
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
        let wireIDs = wireStackIDs.withLock { table in
            sites.map { site in
                if let id = table[site.stackID] { return id }
                let id = UInt64(table.count + 1)
                table[site.stackID] = id
                return id
            }
        }
        let symbolizer = Symbolizer.shared
        for (site, wireID) in zip(sites, wireIDs) {
            let imageOffsets = symbolizer.imageOffsets(forAddresses: site.frames.map(\.address))
            snapshot.sites.append(Wire.Site(stackID: wireID, liveBytes: site.liveBytes, liveObjects: site.liveObjects,
                                            allocatedBytes: site.allocatedBytes, typeName: site.typeName))
            snapshot.stacks.append(Wire.Stack(id: wireID, frames: zip(site.frames, imageOffsets).map { frame, imageOffset in
                Wire.Frame(function: frame.function, file: frame.file ?? "", line: UInt32(clamping: frame.line ?? 0),
                           image: frame.image, address: frame.address, imageOffset: imageOffset)
            }))
        }
        snapshot.events = pendingEvents.withLock { events in
            defer { events.removeAll() }
            return events
        }
        return snapshot
    }
}
