/// What one retention pass did.
public struct RetentionReport: Sendable, Equatable {
    public var rawSamplesRolledUp = 0
    public var minuteBucketsRolledUp = 0
    public var hourBucketsDeleted = 0
    public var eventsDeleted = 0
    public var memoryErrorsDeleted = 0
    public var verdictsDeleted = 0
    public var stacksDeleted = 0
    public var instancesDeleted = 0
    public var hostsDeleted = 0

    public init() {}
}
