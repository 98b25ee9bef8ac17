import Foundation
import LeakWire

/// Turns an agent's Snapshot messages into `SnapshotIngest` values, keeping the connection's
/// stack interning table (agent stack id -> digest). One per agent connection.
///
/// It owns the connection's validation policy (docs/PROTOCOL.md, "Validation"): each snapshot is
/// checked against `SnapshotLimits`, the collector's clock and its process's start (from Hello),
/// then its cumulative counters against
/// the previous snapshot of the process instance this connection accepted (seeded at Welcome from
/// the newest one stored). A violation rejects that snapshot alone (`Translation.rejected`): the
/// connection goes on. Only a broken interning or sequence rule ends it (`SnapshotRejection`).
struct SnapshotTranslator {
    /// What became of one snapshot.
    enum Translation {
        case accepted(SnapshotIngest)
        /// Never to be stored; the agent is told and drops it.
        case rejected(SnapshotViolation)
    }

    let process: ProcessIdentity
    /// Bound on the interning table, so one connection cannot grow the collector's memory
    /// without limit.
    let maximumStacks: Int
    let limits: SnapshotLimits
    /// The Hello's `process_start_unix_nanos`: no timestamp may be much earlier.
    let processStartUnixNanos: Int64?
    private var digests: [UInt64: StackDigest] = [:]
    /// Keeps the stacks this connection defined from garbage collection while it is open: the
    /// agent refers to them by id alone from then on.
    private let pins: StackPins.Lease
    /// Counters of the newest snapshot accepted for this process instance.
    private var previous: SnapshotCounters?
    /// Valid stacks defined by rejected snapshots: the agent will not send their frames again on
    /// this connection, so they are stored with the next accepted snapshot.
    private var carriedOver: [StackDefinition] = []

    init(process: ProcessIdentity, maximumStacks: Int, pins: StackPins.Lease, limits: SnapshotLimits = .default,
         processStartUnixNanos: Int64? = nil, previous: SnapshotCounters? = nil) {
        self.process = process
        self.maximumStacks = maximumStacks
        self.pins = pins
        self.limits = limits
        self.processStartUnixNanos = processStartUnixNanos
        self.previous = previous
    }

    mutating func translate(_ snapshot: Leakwatch_V1_Snapshot, receivedAtUnixNanos: Int64) throws(SnapshotRejection) -> Translation {
        guard snapshot.sequence > 0, snapshot.sequence <= UInt64(Int64.max) else {
            throw SnapshotRejection("snapshot sequence must be 1...2^63-1, got \(snapshot.sequence)")
        }
        do {
            try SnapshotValidation.check(snapshot, receivedAtUnixNanos: receivedAtUnixNanos,
                                         processStartUnixNanos: processStartUnixNanos, limits: limits)
            if let previous, snapshot.sequence > previous.sequence {
                try SnapshotValidation.checkContinuity(SnapshotCounters(snapshot), after: previous, sequence: snapshot.sequence)
            }
        } catch {
            if (try? SnapshotValidation.checkStacks(snapshot, limits: limits)) != nil {
                carriedOver += try intern(snapshot)
            }
            return .rejected(error)
        }
        var newStacks = carriedOver
        carriedOver = []
        newStacks += try intern(snapshot)
        var sites: [SiteSample] = []
        sites.reserveCapacity(snapshot.sites.count)
        for site in snapshot.sites {
            guard let digest = digests[site.stackID] else {
                throw SnapshotRejection(
                    "snapshot \(snapshot.sequence) has a site with stack id \(site.stackID) that this connection never defined; send its Stack first")
            }
            sites.append(SiteSample(
                stackDigest: digest, liveBytesEstimate: Self.clamp(site.liveBytes),
                liveObjectsEstimate: Self.clamp(site.liveObjects), allocatedBytesTotal: Self.clamp(site.allocatedBytes)))
        }
        var memoryErrors: [MemoryErrorSample] = []
        for event in snapshot.events where event.kind == .memoryError {
            func digest(_ id: UInt64, _ role: String) throws(SnapshotRejection) -> StackDigest? {
                guard id != 0 else { return nil }
                guard let digest = digests[id] else {
                    throw SnapshotRejection(
                        "snapshot \(snapshot.sequence) has a memory error whose \(role) stack id \(id) this connection never defined; send its Stack first")
                }
                return digest
            }
            memoryErrors.append(MemoryErrorSample(
                timestampMs: event.timestampUnixNanos / 1_000_000, kind: Self.name(of: event.memoryErrorKind),
                access: Self.name(of: event.access), faultAddress: event.faultAddress, blockOffset: event.blockOffset,
                blockSizeBytes: Self.clamp(event.blockSizeBytes), threadID: Int64(event.threadID), recovered: event.recovered,
                accessStack: try digest(event.accessStackID, "access"),
                allocationStack: try digest(event.allocationStackID, "allocation"),
                freeStack: try digest(event.freeStackID, "free")))
        }
        if snapshot.sequence > previous?.sequence ?? 0 { previous = SnapshotCounters(snapshot) }
        let stats = snapshot.stats
        let timestampMs = snapshot.timestampUnixNanos / 1_000_000
        var pattern = AllocationPattern()
        pattern.sizeClasses = snapshot.sizeClasses.map {
            .init(upperBoundBytes: Self.clamp($0.upperBoundBytes), allocationCount: Self.clamp($0.count), bytes: Self.clamp($0.bytes))
        }
        pattern.topSizes = snapshot.topSizes.map { .init(sizeBytes: Self.clamp($0.size), allocationCount: Self.clamp($0.count)) }
        let events = snapshot.events.map { event in
            SnapshotEvent(
                timestampMs: event.timestampUnixNanos / 1_000_000, kind: Self.name(of: event.kind),
                severity: Self.severity(of: event.kind), message: event.message,
                value: Self.clamp(event.kind == .snapshotsDropped ? event.droppedCount : event.value),
                thresholdBytes: Self.clamp(event.thresholdBytes))
        }
        return .accepted(SnapshotIngest(
            process: process, sequence: Int64(snapshot.sequence), timestampMs: timestampMs,
            stats: SnapshotStats(
                bytesAllocatedTotal: Self.clamp(stats.totalAllocatedBytes), bytesInUse: Self.clamp(stats.currentBytes),
                peakBytesInUse: Self.clamp(stats.peakBytes), allocationCount: Self.clamp(stats.allocationCount),
                freeCount: Self.clamp(stats.freeCount), blocksOutstanding: stats.blocksOutstanding,
                residentBytes: Self.clamp(stats.rssBytes), uptimeSeconds: stats.uptimeSeconds),
            overhead: AgentOverhead(
                trackerBytes: Self.clamp(snapshot.overhead.trackerBytes), agentHeapBytes: Self.clamp(snapshot.overhead.agentHeapBytes)),
            newStacks: newStacks, sites: sites, pattern: pattern, events: events, memoryErrors: memoryErrors,
            receivedAtMs: receivedAtUnixNanos / 1_000_000))
    }

    /// Adds the snapshot's stacks to the interning table; returns their definitions.
    private mutating func intern(_ snapshot: Leakwatch_V1_Snapshot) throws(SnapshotRejection) -> [StackDefinition] {
        guard !snapshot.stacks.isEmpty else { return [] }
        var typeNames: [UInt64: String] = [:]
        for site in snapshot.sites where site.hasTypeName && site.typeName.utf8.count <= limits.maximumStringBytes {
            typeNames[site.stackID] = site.typeName
        }
        var newStacks: [StackDefinition] = []
        newStacks.reserveCapacity(snapshot.stacks.count)
        for stack in snapshot.stacks {
            let frames = stack.frames.map {
                StackFrame(
                    address: $0.address, function: $0.function, file: $0.file, line: $0.line, image: $0.image,
                    imageOffset: $0.hasImageOffset ? $0.imageOffset : nil, inlined: $0.inlined)
            }
            let definition = StackDefinition(frames: frames, typeName: typeNames[stack.id])
            if digests[stack.id] == nil && digests.count >= maximumStacks {
                throw SnapshotRejection(
                    "connection defined more than \(maximumStacks) stacks; the agent should intern fewer or reconnect")
            }
            digests[stack.id] = definition.digest
            newStacks.append(definition)
        }
        pins.pin(newStacks.lazy.map(\.digest))
        return newStacks
    }

    static func clamp(_ value: UInt64) -> Int64 { Int64(clamping: value) }

    static func name(of kind: Leakwatch_V1_EventKind) -> String {
        switch kind {
        case .thresholdWarning: "thresholdWarning"
        case .thresholdCritical: "thresholdCritical"
        case .thresholdCleared: "thresholdCleared"
        case .snapshotsDropped: "snapshotsDropped"
        case .agentError: "agentError"
        case .memoryError: "memoryError"
        default: "unspecified"
        }
    }

    static func name(of kind: Leakwatch_V1_MemoryErrorKind) -> String {
        switch kind {
        case .heapBufferOverflow: "heapBufferOverflow"
        case .heapBufferUnderflow: "heapBufferUnderflow"
        case .heapUseAfterFree: "heapUseAfterFree"
        case .doubleFree: "doubleFree"
        case .invalidFree: "invalidFree"
        case .wildAccess: "wildAccess"
        default: "unspecified"
        }
    }

    static func memoryErrorKind(named name: String) -> Leakwatch_V1_MemoryErrorKind {
        switch name {
        case "heapBufferOverflow": .heapBufferOverflow
        case "heapBufferUnderflow": .heapBufferUnderflow
        case "heapUseAfterFree": .heapUseAfterFree
        case "doubleFree": .doubleFree
        case "invalidFree": .invalidFree
        case "wildAccess": .wildAccess
        default: .unspecified
        }
    }

    static func name(of access: Leakwatch_V1_MemoryAccess) -> String {
        switch access {
        case .read: "read"
        case .write: "write"
        case .free: "free"
        default: "unknown"
        }
    }

    static func access(named name: String) -> Leakwatch_V1_MemoryAccess {
        switch name {
        case "read": .read
        case "write": .write
        case "free": .free
        default: .unknown
        }
    }

    static func kind(named name: String) -> Leakwatch_V1_EventKind {
        switch name {
        case "thresholdWarning": .thresholdWarning
        case "thresholdCritical": .thresholdCritical
        case "thresholdCleared": .thresholdCleared
        case "snapshotsDropped": .snapshotsDropped
        case "agentError": .agentError
        case "memoryError": .memoryError
        default: .unspecified
        }
    }

    static func severity(of kind: Leakwatch_V1_EventKind) -> String {
        switch kind {
        case .thresholdCritical, .agentError, .memoryError: "critical"
        case .thresholdWarning, .snapshotsDropped: "warning"
        default: "info"
        }
    }
}

/// A snapshot that is well-formed protobuf but breaks a protocol rule.
struct SnapshotRejection: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Data {
    var hexString: String { map { String(format: "%02x", $0) }.joined() }

    init?(hexString: String) {
        var bytes = [UInt8]()
        var iterator = hexString.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = Self.nibble(high), let l = Self.nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        self.init(bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
