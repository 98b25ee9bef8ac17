import LeakWire

/// A query that cannot be answered; sent back as an Error frame carrying the request id.
/// The connection stays open.
public struct QueryError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case unknownHost
        case badRequest
    }
    private let code: Code
    public let requestID: UInt64
    public let description: String

    static func unknownHost(_ host: String, requestID: UInt64, knownHosts: [String]) -> QueryError {
        let hint = knownHosts.isEmpty ? "no known host has a similar name" : "did you mean \(knownHosts.prefix(5).joined(separator: ", "))?"
        return QueryError(code: .unknownHost, requestID: requestID, description: "host '\(host)' has never reported to this collector; \(hint)")
    }

    static func badRequest(_ description: String, requestID: UInt64) -> QueryError {
        QueryError(code: .badRequest, requestID: requestID, description: description)
    }

    var errorMessage: Leakwatch_V1_Error {
        var error = Leakwatch_V1_Error()
        error.code = code == .unknownHost ? .unknownHost : .badRequest
        error.message = description
        error.requestID = requestID
        return error
    }
}
