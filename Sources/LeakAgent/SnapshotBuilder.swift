import LeakWire
import Synchronization

/// Builds the snapshot the shipper sends: stats, patterns, live sites with their full stacks
/// (the shipper interns them per connection), and the events since the last snapshot.
final class SnapshotBuilder: Sendable {
    private let pendingEvents = Mutex<[Leakwatch_V1_Event]>([])
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
        var event = Leakwatch_V1_Event()
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
        var event = Leakwatch_V1_Event()
        event.kind = .agentError
        event.timestampUnixNanos = WallClock.nowUnixNanos()
        event.message = message
        pendingEvents.withLock { $0.append(event) }
    }

    func build() -> Leakwatch_V1_Snapshot {
        let now = WallClock.nowUnixNanos()
        let heap = HeapStats.read()
        let patterns = AllocationPatterns.read(topSizeLimit: 16)
        let sites = AllocationSite.read().filter { $0.liveBytes > 0 }.prefix(siteLimit)

        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.timestampUnixNanos = now
        snapshot.stats = .with {
            $0.totalAllocatedBytes = heap.totalAllocatedBytes
            $0.currentBytes = heap.currentBytes
            $0.peakBytes = heap.peakBytes
            $0.allocationCount = heap.allocationCount
            $0.freeCount = heap.freeCount
            $0.blocksOutstanding = Int64(heap.allocationCount) - Int64(heap.freeCount)
            $0.rssBytes = ProcessMemory.residentBytes() ?? 0
            // Wall-clock based: a clock stepped back before the start reads negative, which the
            // collector rejects (docs/PROTOCOL.md, "Validation").
            $0.uptimeSeconds = max(0, Double(now - processStartUnixNanos) / 1e9)
        }
        snapshot.overhead = .with {
            $0.trackerBytes = heap.trackerMappedBytes
            $0.agentHeapBytes = heap.agentHeapBytes
        }
        snapshot.sizeClasses = patterns.sizeClasses.map { sizeClass in
            .with {
                $0.upperBoundBytes = sizeClass.upperBoundBytes
                $0.count = sizeClass.count
                $0.bytes = sizeClass.bytes
            }
        }
        snapshot.topSizes = patterns.topSizes.map { size in
            .with {
                $0.size = size.size
                $0.count = size.count
            }
        }
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
            snapshot.sites.append(.with {
                $0.stackID = wireID
                $0.liveBytes = site.liveBytes
                $0.liveObjects = site.liveObjects
                $0.allocatedBytes = site.allocatedBytes
                if let typeName = site.typeName { $0.typeName = typeName }
            })
            snapshot.stacks.append(.with {
                $0.id = wireID
                $0.frames = zip(site.frames, imageOffsets).map { frame, imageOffset in
                    .with {
                        $0.function = frame.function
                        $0.file = frame.file ?? ""
                        $0.line = UInt32(clamping: frame.line ?? 0)
                        $0.image = frame.image
                        $0.address = frame.address
                        if let imageOffset { $0.imageOffset = imageOffset }
                    }
                }
            })
        }
        snapshot.events = pendingEvents.withLock { events in
            defer { events.removeAll() }
            return events
        }
        return snapshot
    }
}
