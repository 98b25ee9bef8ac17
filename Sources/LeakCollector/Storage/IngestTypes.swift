// Domain values the store ingests. They are independent of the wire format: the server
// translates decoded protobuf messages into these, and the benchmark and tests can build
// them directly.

/// 128-bit digest of what a stack's frames mean; stacks are interned globally by it.
///
/// It must be the same for the same code path in every start of a process (so a site's series
/// continues across restarts), so it never mixes an absolute address, which ASLR changes at every
/// start. A frame counts by `StackFrame.identity`: (image, function, file, line) when symbolized,
/// else (image, offset in the image), else, with nothing better, its address.
public struct StackDigest: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Digest of a list of frames: two FNV-1a passes with different offset bases.
    public init(frames: [StackFrame]) {
        var high: UInt64 = 0xcbf2_9ce4_8422_2325
        var low: UInt64 = 0x6c62_272e_07bb_0142
        func mix(_ byte: UInt8) {
            high = (high ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            low = (low ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 &+ 0x9e37_79b9
        }
        func mix(_ value: UInt64) {
            var v = value
            for _ in 0..<8 { mix(UInt8(truncatingIfNeeded: v)); v >>= 8 }
        }
        func mix(_ text: String) {
            for byte in text.utf8 { mix(byte) }
            mix(UInt8(0))
        }
        for frame in frames {
            mix(frame.image)
            switch frame.identity {
            case .symbol:
                mix(UInt8(1))
                mix(frame.function)
                mix(frame.file)
                mix(UInt64(frame.line))
            case .imageOffset(let offset):
                mix(UInt8(2))
                mix(offset)
            case .address:
                mix(UInt8(3))
                mix(frame.address)
            }
        }
        self.high = high
        self.low = low
    }

    /// The 16 bytes of `bytes`, as stored in `stack.digest`; nil for any other length.
    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    var bytes: [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        return result
    }
}

/// One symbolized frame of a call stack.
public struct StackFrame: Hashable, Sendable, Codable {
    /// Return address in the process that sent it: differs at every start under ASLR.
    public var address: UInt64
    /// Demangled when possible; empty, or the address in hex ("0x7f..."), when no symbol covers it.
    public var function: String
    public var file: String
    public var line: UInt32
    /// Shared object or executable.
    public var image: String
    /// `address` minus the load address of `image`: the same in every start of the same binary.
    /// Nil when the agent did not send it (agents before protocol field Frame.image_offset).
    public var imageOffset: UInt64?
    /// True when the compiler inlined this frame into the next one; nil otherwise (and in rows
    /// stored before protocol field Frame.inlined), so stored JSON only carries it when true.
    public var inlined: Bool?

    public init(
        address: UInt64, function: String, file: String = "", line: UInt32 = 0, image: String = "",
        imageOffset: UInt64? = nil, inlined: Bool = false
    ) {
        self.address = address
        self.function = function
        self.file = file
        self.line = line
        self.image = image
        self.imageOffset = imageOffset
        self.inlined = inlined ? true : nil
    }

    /// What identifies this frame across process starts, best first.
    public enum Identity: Hashable, Sendable {
        /// Function, file and line: what the code means, the same in every start (and in every
        /// build that keeps the function where it was).
        case symbol
        /// No symbol, but the place in the image is known.
        case imageOffset(UInt64)
        /// Neither: only the absolute address, which changes at every start under ASLR.
        case address
    }

    public var identity: Identity {
        if isSymbolized { return .symbol }
        if let imageOffset { return .imageOffset(imageOffset) }
        return .address
    }

    /// False for the placeholders agents send when no symbol covers the address: an empty name
    /// or a hexadecimal number ("0x55a00000f00d").
    public var isSymbolized: Bool {
        let utf8 = function.utf8
        guard utf8.count > 2, utf8.starts(with: "0x".utf8) else { return !function.isEmpty }
        return !utf8.dropFirst(2).allSatisfy { byte in
            (48...57).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte)
        }
    }
}

/// A stack whose frames arrive for the first time on a connection.
public struct StackDefinition: Sendable {
    public var digest: StackDigest
    public var frames: [StackFrame]
    /// The Swift type allocated at this stack, when the agent knows it.
    public var typeName: String?

    public init(frames: [StackFrame], typeName: String? = nil) {
        self.digest = StackDigest(frames: frames)
        self.frames = frames
        self.typeName = typeName
    }
}

/// Per-snapshot process statistics (DESIGN.md "What a snapshot carries", item 1).
public struct SnapshotStats: Sendable, Equatable {
    public var bytesAllocatedTotal: Int64
    public var bytesInUse: Int64
    public var peakBytesInUse: Int64
    public var allocationCount: Int64
    public var freeCount: Int64
    public var blocksOutstanding: Int64
    public var residentBytes: Int64
    public var uptimeSeconds: Double

    public init(
        bytesAllocatedTotal: Int64 = 0, bytesInUse: Int64 = 0, peakBytesInUse: Int64 = 0,
        allocationCount: Int64 = 0, freeCount: Int64 = 0, blocksOutstanding: Int64 = 0,
        residentBytes: Int64 = 0, uptimeSeconds: Double = 0
    ) {
        self.bytesAllocatedTotal = bytesAllocatedTotal
        self.bytesInUse = bytesInUse
        self.peakBytesInUse = peakBytesInUse
        self.allocationCount = allocationCount
        self.freeCount = freeCount
        self.blocksOutstanding = blocksOutstanding
        self.residentBytes = residentBytes
        self.uptimeSeconds = uptimeSeconds
    }
}

/// Memory the agent itself uses (tracker tables, its own threads' heap), apart from the app's.
public struct AgentOverhead: Sendable, Equatable {
    public var trackerBytes: Int64
    public var agentHeapBytes: Int64

    public init(trackerBytes: Int64 = 0, agentHeapBytes: Int64 = 0) {
        self.trackerBytes = trackerBytes
        self.agentHeapBytes = agentHeapBytes
    }
}

/// One sampled allocation site in one snapshot, keyed by its stack's digest.
public struct SiteSample: Sendable, Equatable {
    public var stackDigest: StackDigest
    public var liveBytesEstimate: Int64
    public var liveObjectsEstimate: Int64
    public var allocatedBytesTotal: Int64

    public init(stackDigest: StackDigest, liveBytesEstimate: Int64, liveObjectsEstimate: Int64, allocatedBytesTotal: Int64) {
        self.stackDigest = stackDigest
        self.liveBytesEstimate = liveBytesEstimate
        self.liveObjectsEstimate = liveObjectsEstimate
        self.allocatedBytesTotal = allocatedBytesTotal
    }
}

/// Allocation pattern of one snapshot: size-class histogram and most frequent exact sizes.
public struct AllocationPattern: Sendable, Equatable {
    public struct SizeClass: Sendable, Equatable {
        public var upperBoundBytes: Int64
        public var allocationCount: Int64
        public var bytes: Int64
        public init(upperBoundBytes: Int64, allocationCount: Int64, bytes: Int64) {
            self.upperBoundBytes = upperBoundBytes
            self.allocationCount = allocationCount
            self.bytes = bytes
        }
    }

    public struct ExactSize: Sendable, Equatable {
        public var sizeBytes: Int64
        public var allocationCount: Int64
        public init(sizeBytes: Int64, allocationCount: Int64) {
            self.sizeBytes = sizeBytes
            self.allocationCount = allocationCount
        }
    }

    public var sizeClasses: [SizeClass]
    public var topSizes: [ExactSize]

    public init(sizeClasses: [SizeClass] = [], topSizes: [ExactSize] = []) {
        self.sizeClasses = sizeClasses
        self.topSizes = topSizes
    }
}

/// Threshold crossings, agent errors, dropped-data counters.
public struct SnapshotEvent: Sendable, Equatable {
    public var timestampMs: Int64
    public var kind: String
    public var severity: String
    public var message: String
    public var value: Int64
    /// Threshold events: the threshold crossed (0 otherwise).
    public var thresholdBytes: Int64

    public init(timestampMs: Int64, kind: String, severity: String, message: String, value: Int64 = 0, thresholdBytes: Int64 = 0) {
        self.timestampMs = timestampMs
        self.kind = kind
        self.severity = severity
        self.message = message
        self.value = value
        self.thresholdBytes = thresholdBytes
    }
}

/// A memory-safety error an agent's guarded pool caught, its stacks by digest (nil: none).
public struct MemoryErrorSample: Sendable, Equatable {
    public var timestampMs: Int64
    /// `MemoryErrorKind` and `MemoryAccess` case names ("heapBufferOverflow", "write").
    public var kind: String
    public var access: String
    public var faultAddress: UInt64
    public var blockOffset: Int64
    public var blockSizeBytes: Int64
    public var threadID: Int64
    public var recovered: Bool
    public var accessStack: StackDigest?
    public var allocationStack: StackDigest?
    public var freeStack: StackDigest?

    public init(timestampMs: Int64, kind: String, access: String, faultAddress: UInt64 = 0, blockOffset: Int64 = 0,
                blockSizeBytes: Int64 = 0, threadID: Int64 = 0, recovered: Bool = true, accessStack: StackDigest? = nil,
                allocationStack: StackDigest? = nil, freeStack: StackDigest? = nil) {
        self.timestampMs = timestampMs
        self.kind = kind
        self.access = access
        self.faultAddress = faultAddress
        self.blockOffset = blockOffset
        self.blockSizeBytes = blockSizeBytes
        self.threadID = threadID
        self.recovered = recovered
        self.accessStack = accessStack
        self.allocationStack = allocationStack
        self.freeStack = freeStack
    }
}

/// Identity of one run of a process; a restart is a new instance.
public struct ProcessIdentity: Hashable, Sendable {
    public var hostName: String
    /// Unique per process start (the agent's instance id).
    public var instanceKey: String
    public var serviceName: String
    public var processID: Int64
    public var startedAtMs: Int64

    public init(hostName: String, instanceKey: String, serviceName: String = "", processID: Int64 = 0, startedAtMs: Int64 = 0) {
        self.hostName = hostName
        self.instanceKey = instanceKey
        self.serviceName = serviceName
        self.processID = processID
        self.startedAtMs = startedAtMs
    }
}

/// Everything one snapshot contributes to the store.
public struct SnapshotIngest: Sendable {
    public var process: ProcessIdentity
    /// Per-instance sequence number; (instance, sequence) identifies a snapshot for de-duplication.
    public var sequence: Int64
    /// The agent's clock when it took the snapshot: every computation uses this.
    public var timestampMs: Int64
    /// The collector's clock when the snapshot arrived, kept beside `timestampMs` so that an
    /// agent's clock error can be seen (0: not known, as for snapshots stored before "v5").
    public var receivedAtMs: Int64
    public var stats: SnapshotStats
    public var overhead: AgentOverhead
    /// Stacks defined for the first time in this snapshot (frames cross the wire once per connection).
    public var newStacks: [StackDefinition]
    public var sites: [SiteSample]
    public var pattern: AllocationPattern
    public var events: [SnapshotEvent]
    /// The MEMORY_ERROR events among `events`, with their stacks.
    public var memoryErrors: [MemoryErrorSample]

    public init(
        process: ProcessIdentity, sequence: Int64, timestampMs: Int64, stats: SnapshotStats,
        overhead: AgentOverhead = .init(), newStacks: [StackDefinition] = [], sites: [SiteSample] = [],
        pattern: AllocationPattern = .init(), events: [SnapshotEvent] = [], memoryErrors: [MemoryErrorSample] = [],
        receivedAtMs: Int64 = 0
    ) {
        self.process = process
        self.sequence = sequence
        self.timestampMs = timestampMs
        self.receivedAtMs = receivedAtMs
        self.stats = stats
        self.overhead = overhead
        self.newStacks = newStacks
        self.sites = sites
        self.pattern = pattern
        self.events = events
        self.memoryErrors = memoryErrors
    }
}

/// What happened to one snapshot in a write batch.
public enum IngestOutcome: Sendable, Equatable {
    case stored
    /// Same instance and sequence already committed: ignored, but still acknowledged.
    case duplicate
}
