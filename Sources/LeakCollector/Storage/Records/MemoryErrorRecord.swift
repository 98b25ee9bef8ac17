import Foundation
import GRDB

/// One memory-safety error an agent's guarded pool caught (a MEMORY_ERROR event), its stacks by
/// row id in `stack`. Kinds and accesses are stored by name ("heapBufferOverflow", "write").
public struct MemoryErrorRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "memoryError"
    public var id: Int64?
    public var hostId: Int64
    public var instanceId: Int64
    public var timestampMs: Int64
    public var kind: String
    public var access: String
    /// The faulting address's 64 bits, as SQLite's signed integer.
    public var faultAddress: Int64
    public var blockOffset: Int64
    public var blockSizeBytes: Int64
    public var threadId: Int64
    public var recovered: Bool
    public var accessStackId: Int64?
    public var allocationStackId: Int64?
    public var freeStackId: Int64?

    public enum Columns {
        public static let hostId = Column(CodingKeys.hostId)
        public static let timestampMs = Column(CodingKeys.timestampMs)
    }
}

/// One row of the fleet's ranking: the errors of one kind at one allocation site.
public struct MemoryErrorSiteSummary: Sendable, Equatable {
    public var kind: String
    /// nil for errors with no block (wild accesses).
    public var allocationStackId: Int64?
    public var hostCount: Int
    public var occurrences: Int
    public var firstSeenMs: Int64
    public var lastSeenMs: Int64
    /// Most recently affected first.
    public var hostNames: [String]
    /// The newest occurrence, for its access stack and block size.
    public var newest: MemoryErrorRecord
}
