import Foundation
import LeakWire

/// A query connection to the collector: connect, authenticate as a CLIENT, then one request
/// and its response at a time. Every failure becomes a ``CLIError`` with its exit code.
public final class CollectorClient {
    public let endpoint: CollectorEndpoint
    private let connection: BlockingConnection
    private var nextRequestID: UInt64 = 1

    /// Connects (inside TLS when `tls` is given) and completes the handshake.
    public init(endpoint: CollectorEndpoint, token: [UInt8]?, tls: TLSClientContext? = nil,
                connectTimeoutSeconds: Double = 5, requestTimeoutSeconds: Double = 30) throws {
        self.endpoint = endpoint
        var options = BlockingConnection.Options(
            connectTimeoutSeconds: connectTimeoutSeconds, ioTimeoutSeconds: requestTimeoutSeconds)
        options.tls = tls
        do {
            connection = try BlockingConnection.connect(host: endpoint.host, port: endpoint.port, options: options)
        } catch let error as WireError where error == .tlsFailed {
            throw CLIError.collectorUnreachable.with(
                "cannot reach the collector at \(endpoint) over TLS: \(error.detail). "
                    + "Check --tls-ca (the CA that signed the collector's certificate) and, for mutual TLS, --tls-cert and --tls-key.")
        } catch let error as WireError {
            throw CLIError.collectorUnreachable.with(
                "cannot reach the collector at \(endpoint): \(error.detail.isEmpty ? "\(error)" : error.detail). "
                    + "Is it running? Pass --collector host:port or set \(CollectorEndpoint.environmentVariable).")
        }
        try authenticate(token: token)
    }

    public convenience init(context: CLIContext, collectorOption: String?, tokenFileOption: String?,
                            tls: TLSClientContext? = nil) throws {
        try self.init(
            endpoint: CollectorEndpoint.resolve(option: collectorOption, environment: context.environment),
            token: FleetToken.resolve(option: tokenFileOption, context: context),
            tls: tls,
            connectTimeoutSeconds: context.connectTimeoutSeconds,
            requestTimeoutSeconds: context.requestTimeoutSeconds)
    }

    deinit { connection.close() }

    public func close() { connection.close() }

    private func authenticate(token: [UInt8]?) throws {
        let hello = Wire.Hello(role: .client, hostName: ProcessInfo.processInfo.hostName,
                               agentVersion: "collector-cli \(CollectorCLI.version)")
        var handshake = ClientHandshake(hello: hello, token: token ?? [])
        let refusedHint = token == nil
            ? "no token was given: pass --token-file FILE or set \(FleetToken.fileEnvironmentVariable) or \(FleetToken.valueEnvironmentVariable)"
            : "check that the token is the collector's fleet token"
        do {
            try connection.send(handshake.start())
            while true {
                let message = try connection.receive(Wire.CollectorMessage.self)
                if case .error(let error) = message {
                    if error.code == .authenticationFailed {
                        throw CLIError.authenticationRefused.with(
                            "the collector at \(endpoint) refused the token: \(refusedHint)")
                    }
                    throw CLIError.collectorFailed.with(
                        "the collector at \(endpoint) ended the handshake: \(Self.describe(error))")
                }
                switch try handshake.receive(message) {
                case .send(let reply):
                    try connection.send(reply)
                case .established:
                    return
                }
            }
        } catch let error as CLIError {
            throw error
        } catch let error as WireError where error == .authenticationFailed {
            throw CLIError.authenticationRefused.with("the collector at \(endpoint) refused the token: \(refusedHint)")
        } catch let error as WireError where error == .connectionClosed && handshake.negotiatedVersion != nil {
            // Some collectors close without an Error frame after a bad proof.
            throw CLIError.authenticationRefused.with(
                "the collector at \(endpoint) closed the connection after our proof of the token: \(refusedHint)")
        } catch {
            throw CLIError.collectorFailed.with("handshake with the collector at \(endpoint) failed: \(error)")
        }
    }

    static func describe(_ error: Leakwatch_V1_Error) -> String { describe(code: "\(error.code)", message: error.message) }

    static func describe(_ error: Wire.Error) -> String { describe(code: "\(error.code)", message: error.message) }

    private static func describe(code: String, message: String) -> String {
        message.isEmpty ? code : "\(message) (\(code))"
    }

    // MARK: Queries

    public func fleetOverview(serviceName: String = "") throws -> Leakwatch_V1_FleetOverviewResponse {
        var request = Leakwatch_V1_FleetOverviewRequest()
        request.requestID = takeRequestID()
        request.serviceName = serviceName
        guard case .fleetOverviewResponse(let response) = try exchange(.fleetOverviewRequest(request), id: request.requestID)
        else { throw unexpected("FleetOverviewResponse") }
        return response
    }

    public func hostReport(host: String, sinceUnixNanos: Int64, maxSites: UInt32 = 0) throws -> Leakwatch_V1_HostReportResponse {
        var request = Leakwatch_V1_HostReportRequest()
        request.requestID = takeRequestID()
        request.host = host
        request.sinceUnixNanos = sinceUnixNanos
        request.maxSites = maxSites
        guard case .hostReportResponse(let response) = try exchange(.hostReportRequest(request), id: request.requestID, host: host)
        else { throw unexpected("HostReportResponse") }
        return response
    }

    public func sites(host: String, sinceUnixNanos: Int64, limit: UInt32 = 0) throws -> Leakwatch_V1_SitesResponse {
        var request = Leakwatch_V1_SitesRequest()
        request.requestID = takeRequestID()
        request.host = host
        request.sinceUnixNanos = sinceUnixNanos
        request.limit = limit
        guard case .sitesResponse(let response) = try exchange(.sitesRequest(request), id: request.requestID, host: host)
        else { throw unexpected("SitesResponse") }
        return response
    }

    /// Each site's change in live bytes between the host's snapshots nearest two times (to 0: the newest).
    public func siteDiff(host: String, fromUnixNanos: Int64, toUnixNanos: Int64, limit: UInt32 = 0) throws -> Leakwatch_V1_SiteDiffResponse {
        var request = Leakwatch_V1_SiteDiffRequest()
        request.requestID = takeRequestID()
        request.host = host
        request.fromUnixNanos = fromUnixNanos
        request.toUnixNanos = toUnixNanos
        request.limit = limit
        guard case .siteDiffResponse(let response) = try exchange(.siteDiffRequest(request), id: request.requestID, host: host)
        else { throw unexpected("SiteDiffResponse") }
        return response
    }

    /// A host's points between two times (to 0: now), or with `stackID` one site's, whose
    /// `currentBytes` are its live bytes.
    public func series(host: String, stackID: UInt64? = nil, fromUnixNanos: Int64, toUnixNanos: Int64) throws -> [Leakwatch_V1_SeriesPoint] {
        var request = Leakwatch_V1_SeriesRequest()
        request.requestID = takeRequestID()
        request.host = host
        if let stackID { request.stackID = stackID }
        request.fromUnixNanos = fromUnixNanos
        request.toUnixNanos = toUnixNanos
        guard case .seriesResponse(let response) = try exchange(.seriesRequest(request), id: request.requestID, host: host)
        else { throw unexpected("SeriesResponse") }
        return response.points
    }

    public func memoryErrors(serviceName: String, sinceUnixNanos: Int64, limit: UInt32 = 0) throws -> Leakwatch_V1_MemoryErrorsResponse {
        var request = Leakwatch_V1_MemoryErrorsRequest()
        request.requestID = takeRequestID()
        request.serviceName = serviceName
        request.sinceUnixNanos = sinceUnixNanos
        request.limit = limit
        guard case .memoryErrorsResponse(let response) = try exchange(.memoryErrorsRequest(request), id: request.requestID)
        else { throw unexpected("MemoryErrorsResponse") }
        return response
    }

    /// Host names the collector knows, for suggestions after an unknown-host answer.
    public func knownHostNames() -> [String] {
        (try? fleetOverview().hosts.map(\.host)) ?? []
    }

    private func takeRequestID() -> UInt64 {
        defer { nextRequestID += 1 }
        return nextRequestID
    }

    private func unexpected(_ expected: String) -> CLIError {
        CLIError.collectorFailed.with("the collector at \(endpoint) answered with the wrong message (expected \(expected))")
    }

    /// Sends a request and returns its response; an Error frame becomes the matching CLIError.
    private func exchange(_ request: WireMessage, id: UInt64, host: String? = nil) throws -> WireMessage {
        let response: WireMessage
        do {
            try connection.send(request)
            response = try connection.receive()
        } catch let error as WireError {
            throw CLIError.collectorFailed.with(
                "\(request.name) to the collector at \(endpoint) failed: \(error.detail.isEmpty ? "\(error)" : error.detail)")
        }
        guard case .error(let error) = response else { return response }
        switch error.code {
        case .unknownHost:
            throw CLIError.unknownHost.with(host.map { "unknown host '\($0)'" } ?? Self.describe(error))
        case .badRequest:
            throw CLIError.badArguments.with("the collector rejected the request: \(Self.describe(error))")
        case .authenticationFailed:
            throw CLIError.authenticationRefused.with("the collector refused the request: \(Self.describe(error))")
        case .protocolViolation, .malformedMessage:
            throw CLIError.collectorFailed.with(
                "the collector at \(endpoint) did not accept \(request.name): \(Self.describe(error)); "
                    + "is it a collector version that answers queries?")
        default:
            throw CLIError.collectorFailed.with("the collector at \(endpoint) failed: \(Self.describe(error))")
        }
    }
}
