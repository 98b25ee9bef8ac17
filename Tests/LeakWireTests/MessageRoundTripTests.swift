import Testing
@testable import LeakWire
@testable import LeakWireCore

@Suite("Messages")
struct MessageRoundTripTests {
    static var everyMessage: [WireMessage] {
        var challenge = Leakwatch_V1_Challenge()
        challenge.chosenVersion = 1
        challenge.nonce = .init(repeating: 0xAB, count: 32)
        challenge.collectorVersion = "0.1.0"
        var authenticate = Leakwatch_V1_Authenticate()
        authenticate.proof = .init(repeating: 0xCD, count: 32)
        var welcome = Leakwatch_V1_Welcome()
        welcome.accepted = true
        welcome.lastAcknowledgedSequence = 41
        welcome.version = 1
        var error = Leakwatch_V1_Error()
        error.code = .unknownHost
        error.message = "no host 'web-9'"
        error.requestID = 5
        var ack = Leakwatch_V1_Ack()
        ack.sequence = 41

        var overview = Leakwatch_V1_HostOverview()
        overview.host = "web-3"
        overview.serviceName = "checkout"
        overview.status = .suspectedLeak
        overview.rateBytesPerHour = 12_345_678.5
        overview.sinceUnixNanos = 1_764_000_000_000_000_000
        overview.confidence = 0.97
        overview.lastSeenUnixNanos = 1_764_000_600_000_000_000
        overview.currentBytes = 300_000_000
        overview.rssBytes = 400_000_000
        overview.stale = true
        var fleetRequest = Leakwatch_V1_FleetOverviewRequest()
        fleetRequest.requestID = 1
        fleetRequest.serviceName = "checkout"
        var fleetResponse = Leakwatch_V1_FleetOverviewResponse()
        fleetResponse.requestID = 1
        fleetResponse.hosts = [overview, Leakwatch_V1_HostOverview()]

        var reportRequest = Leakwatch_V1_HostReportRequest()
        reportRequest.requestID = 2
        reportRequest.host = "web-3"
        reportRequest.sinceUnixNanos = 5
        reportRequest.maxSites = 10
        var siteReport = Leakwatch_V1_SiteReport()
        siteReport.stackID = 3
        siteReport.liveBytes = 1 << 30
        siteReport.liveObjects = 1000
        siteReport.allocatedBytes = 1 << 33
        siteReport.rateBytesPerHour = 50_000_000
        siteReport.status = .growing
        siteReport.typeName = "Checkout.Order"
        siteReport.frames = Fixtures.exampleSnapshot.stacks[0].frames
        var point = Leakwatch_V1_SeriesPoint()
        point.timestampUnixNanos = 1_764_000_000_000_000_000
        point.currentBytes = 1000
        point.rssBytes = 2000
        point.processInstanceID = .init(repeating: 1, count: 16)
        point.liveObjects = 3
        var reportResponse = Leakwatch_V1_HostReportResponse()
        reportResponse.requestID = 2
        reportResponse.host = "web-3"
        reportResponse.serviceName = "checkout"
        reportResponse.verdict.status = .suspectedLeak
        reportResponse.verdict.rateBytesPerHour = 1e7
        reportResponse.verdict.sinceUnixNanos = 7
        reportResponse.verdict.confidence = 0.9
        reportResponse.verdict.responsibleStackIds = [3, 4]
        reportResponse.verdict.explanation = "floor grows 10 MB/h"
        reportResponse.latestStats = Fixtures.exampleSnapshot.stats
        reportResponse.latestTimestampUnixNanos = 9
        reportResponse.series = [point, point]
        reportResponse.sites = [siteReport]
        reportResponse.topSizes = Fixtures.exampleSnapshot.topSizes
        reportResponse.sizeClasses = Fixtures.exampleSnapshot.sizeClasses
        reportResponse.recentEvents = Fixtures.exampleSnapshot.events
        reportResponse.knownHosts = ["web-1", "web-2"]
        reportResponse.hostFound = true
        reportResponse.latestOverhead = Fixtures.exampleSnapshot.overhead

        var sitesRequest = Leakwatch_V1_SitesRequest()
        sitesRequest.requestID = 3
        sitesRequest.host = "web-3"
        sitesRequest.sinceUnixNanos = 11
        sitesRequest.limit = 20
        var sitesResponse = Leakwatch_V1_SitesResponse()
        sitesResponse.requestID = 3
        sitesResponse.host = "web-3"
        sitesResponse.sites = [siteReport]
        var seriesRequest = Leakwatch_V1_SeriesRequest()
        seriesRequest.requestID = 4
        seriesRequest.host = "web-3"
        seriesRequest.stackID = 0  // present-but-zero must survive: it is optional
        seriesRequest.fromUnixNanos = 1
        seriesRequest.toUnixNanos = 2
        var seriesResponse = Leakwatch_V1_SeriesResponse()
        seriesResponse.requestID = 4
        seriesResponse.host = "web-3"
        seriesResponse.stackID = 3
        seriesResponse.points = [point]
        var stacksRequest = Leakwatch_V1_StacksRequest()
        stacksRequest.requestID = 6
        stacksRequest.host = "web-3"
        stacksRequest.ids = [3, 1 << 63]
        var stacksResponse = Leakwatch_V1_StacksResponse()
        stacksResponse.requestID = 6
        stacksResponse.stacks = Fixtures.exampleSnapshot.stacks
        var memoryErrorsRequest = Leakwatch_V1_MemoryErrorsRequest()
        memoryErrorsRequest.requestID = 7
        memoryErrorsRequest.serviceName = "checkout"
        memoryErrorsRequest.sinceUnixNanos = 5
        memoryErrorsRequest.limit = 10
        var memoryErrorSite = Leakwatch_V1_MemoryErrorSite()
        memoryErrorSite.kind = .heapUseAfterFree
        memoryErrorSite.allocationFrames = Fixtures.exampleSnapshot.stacks[0].frames
        memoryErrorSite.hostCount = 2
        memoryErrorSite.occurrences = 3
        memoryErrorSite.firstSeenUnixNanos = 1
        memoryErrorSite.lastSeenUnixNanos = 2
        memoryErrorSite.hosts = ["web-3", "web-1"]
        var memoryErrorsResponse = Leakwatch_V1_MemoryErrorsResponse()
        memoryErrorsResponse.requestID = 7
        memoryErrorsResponse.sites = [memoryErrorSite]
        let siteDiffRequest = Leakwatch_V1_SiteDiffRequest.with {
            $0.requestID = 8; $0.host = "web-3"; $0.fromUnixNanos = 11; $0.toUnixNanos = 12; $0.limit = 5
        }
        let siteChange = Leakwatch_V1_SiteChange.with {
            $0.stackID = 3; $0.fromLiveBytes = 10; $0.toLiveBytes = 1 << 40; $0.fromLiveObjects = 1; $0.toLiveObjects = 9
            $0.typeName = "Checkout.Session"; $0.frames = Fixtures.exampleSnapshot.stacks[0].frames
        }
        let siteDiffResponse = Leakwatch_V1_SiteDiffResponse.with {
            $0.requestID = 8; $0.host = "web-3"; $0.fromSnapshotUnixNanos = 11; $0.toSnapshotUnixNanos = 12; $0.changes = [siteChange]
        }

        return [
            .hello(Fixtures.exampleHello), .challenge(challenge), .authenticate(authenticate), .welcome(welcome),
            .error(error), .snapshot(Fixtures.exampleSnapshot), .ack(ack),
            .fleetOverviewRequest(fleetRequest), .fleetOverviewResponse(fleetResponse),
            .hostReportRequest(reportRequest), .hostReportResponse(reportResponse),
            .sitesRequest(sitesRequest), .sitesResponse(sitesResponse),
            .seriesRequest(seriesRequest), .seriesResponse(seriesResponse),
            .stacksRequest(stacksRequest), .stacksResponse(stacksResponse),
            .memoryErrorsRequest(memoryErrorsRequest), .memoryErrorsResponse(memoryErrorsResponse),
            .siteDiffRequest(siteDiffRequest), .siteDiffResponse(siteDiffResponse),
        ]
    }

    @Test func everyKindHasAnExampleMessage() {
        #expect(Set(Self.everyMessage.map(\.kind)) == Set(MessageKind.allCases))
    }

    @Test(arguments: [FrameEncoder.Compression.never, .always, .automatic(minimumBytes: 256)])
    func everyMessageRoundTrips(compression: FrameEncoder.Compression) throws {
        let encoder = FrameEncoder(compression: compression)
        for message in Self.everyMessage {
            let frame = try FrameDecoder.decodeSingleFrame(try encoder.encode(message))
            #expect(frame.kind == message.kind)
            let decoded = try WireMessage(frame)
            #expect(decoded == message, "\(message.name)")
        }
    }

    @Test func optionalFieldsKeepPresence() throws {
        var request = Leakwatch_V1_SeriesRequest()
        request.host = "web-3"
        let absent = try WireMessage(FrameDecoder.decodeSingleFrame(FrameEncoder().encode(.seriesRequest(request))))
        guard case .seriesRequest(let decodedAbsent) = absent else { Issue.record("wrong kind"); return }
        #expect(!decodedAbsent.hasStackID)
        request.stackID = 0
        let present = try WireMessage(FrameDecoder.decodeSingleFrame(FrameEncoder().encode(.seriesRequest(request))))
        guard case .seriesRequest(let decodedPresent) = present else { Issue.record("wrong kind"); return }
        #expect(decodedPresent.hasStackID)
    }

    @Test func kindBytesMatchTheSchemaEnum() {
        for kind in MessageKind.allCases {
            let schema = Leakwatch_V1_MessageKind(rawValue: Int(kind.rawValue))
            #expect(schema != nil && schema != .unspecified, "\(kind)")
            #expect("\(schema!)" == "\(kind)")
        }
        #expect(Leakwatch_V1_MessageKind.allCases.count == MessageKind.allCases.count + 1)
    }

    @Test func wireErrorsCompareByCaseAndMapToErrorCodes() {
        #expect(WireError.frameTooLarge.with("a") == WireError.frameTooLarge.with("b"))
        #expect(WireError.frameTooLarge != WireError.truncated)
        #expect(WireError.authenticationFailed.errorCode == .authenticationFailed)
        #expect(WireError.noCommonVersion.errorCode == .unsupportedVersion)
        #expect(WireError.inflateRatioExceeded.errorCode == .frameTooLarge)
        let message = WireError.unknownKind.with("kind 99").errorMessage(requestID: 4)
        #expect(message.code == .malformedMessage)
        #expect(message.message.contains("kind 99"))
        #expect(message.requestID == 4)
    }
}
