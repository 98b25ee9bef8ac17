import Foundation
import GRDB

/// One raw snapshot: stats plus packed per-site values and allocation pattern.
public struct SampleRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sample"
    public var id: Int64?
    public var instanceId: Int64
    public var sequence: Int64
    public var hostId: Int64
    public var timestampMs: Int64
    public var bytesAllocatedTotal: Int64
    public var bytesInUse: Int64
    public var peakBytesInUse: Int64
    public var allocationCount: Int64
    public var freeCount: Int64
    public var blocksOutstanding: Int64
    public var residentBytes: Int64
    public var uptimeSeconds: Double
    /// PackedRows, layout `SiteColumns`.
    public var sites: Data
    /// PackedRows, layout `PatternColumns`.
    public var patterns: Data
    /// The agent's own memory (`Snapshot.overhead`); 0 before migration v3 and from agents that omit it.
    public var trackerBytes: Int64
    public var agentHeapBytes: Int64

    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let instanceId = Column(CodingKeys.instanceId)
        public static let sequence = Column(CodingKeys.sequence)
        public static let hostId = Column(CodingKeys.hostId)
        public static let timestampMs = Column(CodingKeys.timestampMs)
        public static let bytesInUse = Column(CodingKeys.bytesInUse)
    }

    public var stats: SnapshotStats {
        SnapshotStats(
            bytesAllocatedTotal: bytesAllocatedTotal, bytesInUse: bytesInUse, peakBytesInUse: peakBytesInUse,
            allocationCount: allocationCount, freeCount: freeCount, blocksOutstanding: blocksOutstanding,
            residentBytes: residentBytes, uptimeSeconds: uptimeSeconds)
    }
}

/// A downsampled bucket of snapshots of one process instance.
public struct SampleRollupRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sampleRollup"
    public var instanceId: Int64
    public var resolutionSeconds: Int64
    public var bucketStartMs: Int64
    public var hostId: Int64
    public var pointCount: Int64
    public var lastTimestampMs: Int64
    public var bytesInUseMin: Int64
    public var bytesInUseMax: Int64
    public var bytesInUseLast: Int64
    public var residentBytesMin: Int64
    public var residentBytesMax: Int64
    public var peakBytesInUseMax: Int64
    public var bytesAllocatedTotalLast: Int64
    public var allocationCountLast: Int64
    public var freeCountLast: Int64
    public var blocksOutstandingLast: Int64
    public var uptimeSecondsLast: Double
    /// PackedRows, layout `SiteRollupColumns`.
    public var sites: Data

    public enum Columns {
        public static let instanceId = Column(CodingKeys.instanceId)
        public static let resolutionSeconds = Column(CodingKeys.resolutionSeconds)
        public static let bucketStartMs = Column(CodingKeys.bucketStartMs)
        public static let hostId = Column(CodingKeys.hostId)
    }
}

/// An interned call stack.
public struct StackRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "stack"
    public var id: Int64
    public var digest: Data
    public var frameCount: Int64
    /// JSON array of `StackFrame`.
    public var frames: String
    public var typeName: String?
    public var firstSeenMs: Int64
    /// At least the time of everything referring to it (see migration "v2-stack-last-seen").
    public var lastSeenMs: Int64

    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let digest = Column(CodingKeys.digest)
    }

    public func decodedFrames() -> [StackFrame] {
        (try? JSONDecoder().decode([StackFrame].self, from: Data(frames.utf8))) ?? []
    }
}

public struct EventRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "event"
    public var id: Int64?
    public var hostId: Int64
    public var instanceId: Int64
    public var timestampMs: Int64
    public var kind: String
    public var severity: String
    public var message: String
    public var value: Int64
    /// Threshold events: the threshold crossed; 0 otherwise and before migration v3.
    public var thresholdBytes: Int64

    public enum Columns {
        public static let hostId = Column(CodingKeys.hostId)
        public static let timestampMs = Column(CodingKeys.timestampMs)
    }
}

/// A stored leak verdict for a host.
public struct VerdictRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "verdict"
    public var id: Int64?
    public var hostId: Int64
    public var evaluatedAtMs: Int64
    /// "ok", "growing", "suspectedLeak", or `notEnoughData` when no trend test could run yet
    /// (stores written before it say "unknown", read the same way).
    public var status: String
    public var rateBytesPerHour: Double
    public var sinceMs: Int64?
    public var confidence: Double
    public var summary: String
    /// JSON array of `VerdictSite`.
    public var sites: String

    public enum Columns {
        public static let hostId = Column(CodingKeys.hostId)
        public static let evaluatedAtMs = Column(CodingKeys.evaluatedAtMs)
    }

    /// The status of a host with too little data for any trend test: never an all-clear.
    public static let notEnoughData = "notEnoughData"
}

/// A site named by a verdict as growing.
public struct VerdictSite: Codable, Sendable, Equatable {
    public var stackId: Int64
    /// "growing" or "suspectedLeak".
    public var status: String
    public var rateBytesPerHour: Double
    public var liveBytes: Int64

    public init(stackId: Int64, status: String, rateBytesPerHour: Double, liveBytes: Int64) {
        self.stackId = stackId
        self.status = status
        self.rateBytesPerHour = rateBytesPerHour
        self.liveBytes = liveBytes
    }
}
