/// The kind byte of a frame header: which message the body holds.
///
/// The numbers are those of `leakwatch.v1.MessageKind` in leakwatch.proto.
public enum MessageKind: UInt8, Sendable, CaseIterable {
    case hello = 1
    case challenge = 2
    case authenticate = 3
    case welcome = 4
    case error = 5
    case snapshot = 16
    case ack = 17
    case fleetOverviewRequest = 32
    case fleetOverviewResponse = 33
    case hostReportRequest = 34
    case hostReportResponse = 35
    case sitesRequest = 36
    case sitesResponse = 37
    case seriesRequest = 38
    case seriesResponse = 39
    case stacksRequest = 40
    case stacksResponse = 41
    case memoryErrorsRequest = 42
    case memoryErrorsResponse = 43
    case siteDiffRequest = 44
    case siteDiffResponse = 45
}
