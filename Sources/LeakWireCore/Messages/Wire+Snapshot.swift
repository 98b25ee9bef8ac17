// What an agent reports (leakwatch.proto, "Agent data"); field comments are in the schema.

extension Wire {
    /// Agent -> collector, every interval. `stats` and `overhead` are always sent.
    public struct Snapshot: Hashable, Sendable {
        public var sequence: UInt64
        public var timestampUnixNanos: Int64
        public var stacks: [Stack]
        public var stats: Stats
        public var overhead: AgentOverhead
        public var sizeClasses: [SizeClass]
        public var topSizes: [ExactSize]
        public var sites: [Site]
        public var events: [Event]

        public init(sequence: UInt64 = 0, timestampUnixNanos: Int64 = 0, stacks: [Stack] = [], stats: Stats = Stats(),
                    overhead: AgentOverhead = AgentOverhead(), sizeClasses: [SizeClass] = [], topSizes: [ExactSize] = [],
                    sites: [Site] = [], events: [Event] = []) {
            self.sequence = sequence
            self.timestampUnixNanos = timestampUnixNanos
            self.stacks = stacks
            self.stats = stats
            self.overhead = overhead
            self.sizeClasses = sizeClasses
            self.topSizes = topSizes
            self.sites = sites
            self.events = events
        }
    }

    public struct Stats: Hashable, Sendable {
        public var totalAllocatedBytes: UInt64
        public var currentBytes: UInt64
        public var peakBytes: UInt64
        public var allocationCount: UInt64
        public var freeCount: UInt64
        public var blocksOutstanding: Int64
        public var rssBytes: UInt64
        public var uptimeSeconds: Double

        public init(totalAllocatedBytes: UInt64 = 0, currentBytes: UInt64 = 0, peakBytes: UInt64 = 0,
                    allocationCount: UInt64 = 0, freeCount: UInt64 = 0, blocksOutstanding: Int64 = 0,
                    rssBytes: UInt64 = 0, uptimeSeconds: Double = 0) {
            self.totalAllocatedBytes = totalAllocatedBytes
            self.currentBytes = currentBytes
            self.peakBytes = peakBytes
            self.allocationCount = allocationCount
            self.freeCount = freeCount
            self.blocksOutstanding = blocksOutstanding
            self.rssBytes = rssBytes
            self.uptimeSeconds = uptimeSeconds
        }
    }

    public struct AgentOverhead: Hashable, Sendable {
        public var trackerBytes: UInt64
        public var agentHeapBytes: UInt64

        public init(trackerBytes: UInt64 = 0, agentHeapBytes: UInt64 = 0) {
            self.trackerBytes = trackerBytes
            self.agentHeapBytes = agentHeapBytes
        }
    }

    public struct SizeClass: Hashable, Sendable {
        public var upperBoundBytes: UInt64
        public var count: UInt64
        public var bytes: UInt64

        public init(upperBoundBytes: UInt64 = 0, count: UInt64 = 0, bytes: UInt64 = 0) {
            self.upperBoundBytes = upperBoundBytes
            self.count = count
            self.bytes = bytes
        }
    }

    public struct ExactSize: Hashable, Sendable {
        public var size: UInt64
        public var count: UInt64

        public init(size: UInt64 = 0, count: UInt64 = 0) {
            self.size = size
            self.count = count
        }
    }

    public struct Site: Hashable, Sendable {
        public var stackID: UInt64
        public var liveBytes: UInt64
        public var liveObjects: UInt64
        public var allocatedBytes: UInt64
        /// `optional` in the schema: nil is absent, "" is sent.
        public var typeName: String?

        public init(stackID: UInt64 = 0, liveBytes: UInt64 = 0, liveObjects: UInt64 = 0, allocatedBytes: UInt64 = 0,
                    typeName: String? = nil) {
            self.stackID = stackID
            self.liveBytes = liveBytes
            self.liveObjects = liveObjects
            self.allocatedBytes = allocatedBytes
            self.typeName = typeName
        }
    }

    public struct Frame: Hashable, Sendable {
        public var function: String
        public var file: String
        public var line: UInt32
        public var image: String
        public var address: UInt64
        /// `optional` in the schema: nil is absent, 0 is sent.
        public var imageOffset: UInt64?
        /// Inlined by the compiler into the next frame.
        public var inlined: Bool

        public init(function: String = "", file: String = "", line: UInt32 = 0, image: String = "", address: UInt64 = 0,
                    imageOffset: UInt64? = nil, inlined: Bool = false) {
            self.function = function
            self.file = file
            self.line = line
            self.image = image
            self.address = address
            self.imageOffset = imageOffset
            self.inlined = inlined
        }
    }

    public struct Stack: Hashable, Sendable {
        public var id: UInt64
        public var frames: [Frame]

        public init(id: UInt64 = 0, frames: [Frame] = []) {
            self.id = id
            self.frames = frames
        }
    }

    public struct Event: Hashable, Sendable {
        public var kind: EventKind
        public var timestampUnixNanos: Int64
        public var value: UInt64
        public var droppedCount: UInt64
        public var message: String
        public var thresholdBytes: UInt64
        // A MEMORY_ERROR event's (fields 7-16).
        public var memoryErrorKind: MemoryErrorKind = .unspecified
        public var access: MemoryAccess = .unknown
        public var faultAddress: UInt64 = 0
        public var blockOffset: Int64 = 0
        public var blockSizeBytes: UInt64 = 0
        public var threadID: UInt32 = 0
        public var accessStackID: UInt64 = 0
        public var allocationStackID: UInt64 = 0
        public var freeStackID: UInt64 = 0
        public var recovered = false

        public init(kind: EventKind = .unspecified, timestampUnixNanos: Int64 = 0, value: UInt64 = 0,
                    droppedCount: UInt64 = 0, message: String = "", thresholdBytes: UInt64 = 0) {
            self.kind = kind
            self.timestampUnixNanos = timestampUnixNanos
            self.value = value
            self.droppedCount = droppedCount
            self.message = message
            self.thresholdBytes = thresholdBytes
        }

        /// The stacks the event refers to (a MEMORY_ERROR's), 0s left out.
        public var stackIDs: [UInt64] {
            [accessStackID, allocationStackID, freeStackID].filter { $0 != 0 }
        }
    }

    /// Collector -> agent: every snapshot with sequence <= this one is committed.
    public struct Ack: Hashable, Sendable {
        public var sequence: UInt64

        public init(sequence: UInt64 = 0) { self.sequence = sequence }
    }
}
