import GRDB

/// A machine (or container) reporting to the collector, by name.
public struct HostRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "host"
    public var id: Int64
    public var name: String
    public var serviceName: String
    public var firstSeenMs: Int64
    public var lastSeenMs: Int64

    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let name = Column(CodingKeys.name)
        public static let firstSeenMs = Column(CodingKeys.firstSeenMs)
        public static let lastSeenMs = Column(CodingKeys.lastSeenMs)
    }
}

/// One run of a process on a host; a restart is a new instance.
public struct ProcessInstanceRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "processInstance"
    public var id: Int64
    public var hostId: Int64
    public var instanceKey: String
    public var serviceName: String
    public var processId: Int64
    public var startedAtMs: Int64
    public var firstSeenMs: Int64
    public var lastSeenMs: Int64
    public var lastSequence: Int64

    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let hostId = Column(CodingKeys.hostId)
        public static let instanceKey = Column(CodingKeys.instanceKey)
        public static let startedAtMs = Column(CodingKeys.startedAtMs)
        public static let lastSeenMs = Column(CodingKeys.lastSeenMs)
    }
}
