import LeakWireCore
import SwiftProtobuf

/// A typed message: what a frame's kind and body mean together.
public enum WireMessage: Sendable, WireEncodable, WireDecodable {
    case hello(Leakwatch_V1_Hello)
    case challenge(Leakwatch_V1_Challenge)
    case authenticate(Leakwatch_V1_Authenticate)
    case welcome(Leakwatch_V1_Welcome)
    case error(Leakwatch_V1_Error)
    case snapshot(Leakwatch_V1_Snapshot)
    case ack(Leakwatch_V1_Ack)
    case fleetOverviewRequest(Leakwatch_V1_FleetOverviewRequest)
    case fleetOverviewResponse(Leakwatch_V1_FleetOverviewResponse)
    case hostReportRequest(Leakwatch_V1_HostReportRequest)
    case hostReportResponse(Leakwatch_V1_HostReportResponse)
    case sitesRequest(Leakwatch_V1_SitesRequest)
    case sitesResponse(Leakwatch_V1_SitesResponse)
    case seriesRequest(Leakwatch_V1_SeriesRequest)
    case seriesResponse(Leakwatch_V1_SeriesResponse)
    case stacksRequest(Leakwatch_V1_StacksRequest)
    case stacksResponse(Leakwatch_V1_StacksResponse)
    case memoryErrorsRequest(Leakwatch_V1_MemoryErrorsRequest)
    case memoryErrorsResponse(Leakwatch_V1_MemoryErrorsResponse)
    case siteDiffRequest(Leakwatch_V1_SiteDiffRequest)
    case siteDiffResponse(Leakwatch_V1_SiteDiffResponse)

    public var kind: MessageKind {
        switch self {
        case .hello: .hello
        case .challenge: .challenge
        case .authenticate: .authenticate
        case .welcome: .welcome
        case .error: .error
        case .snapshot: .snapshot
        case .ack: .ack
        case .fleetOverviewRequest: .fleetOverviewRequest
        case .fleetOverviewResponse: .fleetOverviewResponse
        case .hostReportRequest: .hostReportRequest
        case .hostReportResponse: .hostReportResponse
        case .sitesRequest: .sitesRequest
        case .sitesResponse: .sitesResponse
        case .seriesRequest: .seriesRequest
        case .seriesResponse: .seriesResponse
        case .stacksRequest: .stacksRequest
        case .stacksResponse: .stacksResponse
        case .memoryErrorsRequest: .memoryErrorsRequest
        case .memoryErrorsResponse: .memoryErrorsResponse
        case .siteDiffRequest: .siteDiffRequest
        case .siteDiffResponse: .siteDiffResponse
        }
    }

    var protobufMessage: any SwiftProtobuf.Message {
        switch self {
        case .hello(let m): m
        case .challenge(let m): m
        case .authenticate(let m): m
        case .welcome(let m): m
        case .error(let m): m
        case .snapshot(let m): m
        case .ack(let m): m
        case .fleetOverviewRequest(let m): m
        case .fleetOverviewResponse(let m): m
        case .hostReportRequest(let m): m
        case .hostReportResponse(let m): m
        case .sitesRequest(let m): m
        case .sitesResponse(let m): m
        case .seriesRequest(let m): m
        case .seriesResponse(let m): m
        case .stacksRequest(let m): m
        case .stacksResponse(let m): m
        case .memoryErrorsRequest(let m): m
        case .memoryErrorsResponse(let m): m
        case .siteDiffRequest(let m): m
        case .siteDiffResponse(let m): m
        }
    }

    /// The protobuf encoding of the message (the frame body before any deflate).
    public func serializedBody() throws -> [UInt8] {
        try protobufMessage.serializedBytes()
    }

    /// Decodes the body of a frame as the message its kind names.
    public init(_ frame: Frame) throws {
        try self.init(kind: frame.kind, body: frame.body)
    }

    public init(kind: MessageKind, body: [UInt8]) throws {
        do {
            switch kind {
            case .hello: self = .hello(try .init(serializedBytes: body))
            case .challenge: self = .challenge(try .init(serializedBytes: body))
            case .authenticate: self = .authenticate(try .init(serializedBytes: body))
            case .welcome: self = .welcome(try .init(serializedBytes: body))
            case .error: self = .error(try .init(serializedBytes: body))
            case .snapshot: self = .snapshot(try .init(serializedBytes: body))
            case .ack: self = .ack(try .init(serializedBytes: body))
            case .fleetOverviewRequest: self = .fleetOverviewRequest(try .init(serializedBytes: body))
            case .fleetOverviewResponse: self = .fleetOverviewResponse(try .init(serializedBytes: body))
            case .hostReportRequest: self = .hostReportRequest(try .init(serializedBytes: body))
            case .hostReportResponse: self = .hostReportResponse(try .init(serializedBytes: body))
            case .sitesRequest: self = .sitesRequest(try .init(serializedBytes: body))
            case .sitesResponse: self = .sitesResponse(try .init(serializedBytes: body))
            case .seriesRequest: self = .seriesRequest(try .init(serializedBytes: body))
            case .seriesResponse: self = .seriesResponse(try .init(serializedBytes: body))
            case .stacksRequest: self = .stacksRequest(try .init(serializedBytes: body))
            case .stacksResponse: self = .stacksResponse(try .init(serializedBytes: body))
            case .memoryErrorsRequest: self = .memoryErrorsRequest(try .init(serializedBytes: body))
            case .memoryErrorsResponse: self = .memoryErrorsResponse(try .init(serializedBytes: body))
            case .siteDiffRequest: self = .siteDiffRequest(try .init(serializedBytes: body))
            case .siteDiffResponse: self = .siteDiffResponse(try .init(serializedBytes: body))
            }
        } catch {
            throw WireError.malformedMessage.with("\(kind) body of \(body.count) bytes is not valid protobuf: \(error)")
        }
    }
}

extension WireMessage: Equatable {
    public static func == (lhs: WireMessage, rhs: WireMessage) -> Bool {
        lhs.kind == rhs.kind && lhs.protobufMessage.isEqualTo(message: rhs.protobufMessage)
    }
}

extension WireMessage {
    /// A short name for logs and errors.
    public var name: String { "\(kind)" }
}
