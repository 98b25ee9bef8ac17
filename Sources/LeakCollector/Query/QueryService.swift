import Foundation
import LeakAnalysis
import LeakWire

/// Answers the CLIENT role's query requests from the store. Blocking (database reads):
/// the server runs it on its thread pool, never on an event loop.
public struct QueryService: Sendable {
    public let store: any FleetStore
    /// Report window when the request names none. Default 24 h.
    public var defaultWindowSeconds: Int64 = 24 * 3600
    /// Sites in a report when the request names no limit. Default 20.
    public var defaultSiteLimit = 20
    /// Most points in a report's series (downsampled by bucket floor). Default 720.
    public var maximumReportPoints = 720
    /// Points whose per-site values a report or a sites listing reads (evenly spaced, newest
    /// included): enough for each site's trend. Default 240.
    public var maximumSiteRowsPerReport = 240
    /// Memory errors in a host report, newest first. Default 20.
    public var maximumMemoryErrorsPerReport = 20
    /// Rows of a memory-errors listing when the request names no limit. Default 50.
    public var defaultMemoryErrorSiteLimit = 50
    /// Rows of a site diff when the request names no limit. Default 100.
    public var defaultSiteDiffLimit = 100
    /// Most points in a series response. Default 10,000.
    public var maximumSeriesPoints = 10_000
    public var staleAfterSeconds: Double = 60
    /// Wall clock, in ms; tests may fix it.
    public var nowMs: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    /// The verdict loop's newest pass and interval, for the fleet overview.
    public var verdictLoop: @Sendable () -> (newest: VerdictPass?, intervalSeconds: Double) = { (nil, 0) }

    public init(store: any FleetStore) {
        self.store = store
    }

    static func isRequest(_ message: WireMessage) -> Bool {
        switch message {
        case .fleetOverviewRequest, .hostReportRequest, .sitesRequest, .seriesRequest, .stacksRequest, .memoryErrorsRequest,
             .siteDiffRequest: true
        default: false
        }
    }

    static func requestID(of message: WireMessage) -> UInt64 {
        switch message {
        case .fleetOverviewRequest(let r): r.requestID
        case .hostReportRequest(let r): r.requestID
        case .sitesRequest(let r): r.requestID
        case .seriesRequest(let r): r.requestID
        case .stacksRequest(let r): r.requestID
        case .memoryErrorsRequest(let r): r.requestID
        case .siteDiffRequest(let r): r.requestID
        default: 0
        }
    }

    /// The response to a request message; throws `QueryError` for bad requests.
    public func answer(_ request: WireMessage) throws -> WireMessage {
        switch request {
        case .fleetOverviewRequest(let r): .fleetOverviewResponse(try fleetOverview(r))
        case .hostReportRequest(let r): .hostReportResponse(try hostReport(r))
        case .sitesRequest(let r): .sitesResponse(try sites(r))
        case .seriesRequest(let r): .seriesResponse(try series(r))
        case .stacksRequest(let r): .stacksResponse(try stacks(r))
        case .memoryErrorsRequest(let r): .memoryErrorsResponse(try memoryErrors(r))
        case .siteDiffRequest(let r): .siteDiffResponse(try siteDiff(r))
        default: throw QueryError.badRequest("\(request.name) is not a query request", requestID: 0)
        }
    }

    // MARK: Fleet

    public func fleetOverview(_ request: Leakwatch_V1_FleetOverviewRequest) throws -> Leakwatch_V1_FleetOverviewResponse {
        let hosts = try store.hosts()
        let samples = try store.latestSamples()
        let verdicts = try store.latestVerdicts()
        let now = nowMs()
        var response = Leakwatch_V1_FleetOverviewResponse()
        response.requestID = request.requestID
        for host in hosts where request.serviceName.isEmpty || host.serviceName == request.serviceName {
            var overview = Leakwatch_V1_HostOverview()
            overview.host = host.name
            overview.serviceName = host.serviceName
            overview.lastSeenUnixNanos = Saturating.nanos(milliseconds: host.lastSeenMs)
            overview.stale = Saturating.seconds(from: host.lastSeenMs, to: now, unitsPerSecond: 1000) > staleAfterSeconds
            if let sample = samples[host.id] {
                overview.currentBytes = UInt64(max(0, sample.bytesInUse))
                overview.rssBytes = UInt64(max(0, sample.residentBytes))
            }
            if let verdict = verdicts[host.id] {
                overview.status = Self.status(verdict.status)
                overview.rateBytesPerHour = verdict.rateBytesPerHour
                overview.sinceUnixNanos = Saturating.nanos(milliseconds: verdict.sinceMs ?? 0)
                overview.confidence = verdict.confidence
                overview.explanation = verdict.summary
            }
            response.hosts.append(overview)
        }
        let loop = verdictLoop()
        response.verdictLoop.intervalSeconds = loop.intervalSeconds
        if let pass = loop.newest {
            response.verdictLoop.lastPassStartedUnixNanos = Int64(pass.startedAt.timeIntervalSince1970 * 1e9)
            response.verdictLoop.lagSeconds = pass.lagSeconds
            response.verdictLoop.passSeconds = pass.wallSeconds
            response.verdictLoop.cpuMillisecondsPerHost = pass.cpuMillisecondsPerHost
            response.verdictLoop.hostsEvaluated = UInt32(clamping: pass.hostsEvaluated)
            response.verdictLoop.hostsReadWhole = UInt32(clamping: pass.hostsSeeded)
        }
        return response
    }

    // MARK: Host report

    public func hostReport(_ request: Leakwatch_V1_HostReportRequest) throws -> Leakwatch_V1_HostReportResponse {
        var response = Leakwatch_V1_HostReportResponse()
        response.requestID = request.requestID
        response.host = request.host
        guard let host = try store.host(named: request.host) else {
            response.hostFound = false
            response.knownHosts = try nearHostNames(to: request.host)
            return response
        }
        response.hostFound = true
        response.serviceName = host.serviceName
        let latest = try store.latestSample(hostId: host.id)
        let toMs = max(host.lastSeenMs, latest?.timestampMs ?? 0)
        let fromMs = request.sinceUnixNanos > 0
            ? request.sinceUnixNanos / 1_000_000 : Saturating.difference(toMs, defaultWindowSeconds * 1000)
        let window = try store.window(host: host, fromMs: fromMs, toMs: toMs, maximumSiteRows: maximumSiteRowsPerReport)
        let verdict = try store.latestVerdict(hostId: host.id)
        if let latest {
            response.latestStats = Self.stats(latest.stats)
            response.latestTimestampUnixNanos = Saturating.nanos(milliseconds: latest.timestampMs)
            response.latestOverhead.trackerBytes = UInt64(max(0, latest.trackerBytes))
            response.latestOverhead.agentHeapBytes = UInt64(max(0, latest.agentHeapBytes))
            if let rows = PackedRows(decoding: latest.patterns), rows.arity == PatternColumns.arity {
                let pattern = AllocationPattern(packed: rows)
                response.sizeClasses = pattern.sizeClasses.map {
                    var sizeClass = Leakwatch_V1_SizeClass()
                    sizeClass.upperBoundBytes = UInt64(max(0, $0.upperBoundBytes))
                    sizeClass.count = UInt64(max(0, $0.allocationCount))
                    sizeClass.bytes = UInt64(max(0, $0.bytes))
                    return sizeClass
                }
                response.topSizes = pattern.topSizes.map {
                    var exact = Leakwatch_V1_ExactSize()
                    exact.size = UInt64(max(0, $0.sizeBytes))
                    exact.count = UInt64(max(0, $0.allocationCount))
                    return exact
                }
            }
        }
        if let verdict {
            response.verdict = Self.verdict(verdict)
        }
        response.series = Self.downsample(window.points, maximumPoints: maximumReportPoints).map {
            Self.seriesPoint($0, instanceKeys: window.instanceKeys)
        }
        let limit = request.maxSites > 0 ? Int(request.maxSites) : defaultSiteLimit
        response.sites = try siteReports(window: window, verdict: verdict, limit: limit)
        response.recentEvents = try store.recentEvents(hostId: host.id, limit: 20).map(Self.event)
        response.memoryErrors = try memoryErrorReports(try store.memoryErrors(hostId: host.id, fromMs: fromMs, limit: maximumMemoryErrorsPerReport))
        return response
    }

    public func sites(_ request: Leakwatch_V1_SitesRequest) throws -> Leakwatch_V1_SitesResponse {
        let host = try requireHost(request.host, requestID: request.requestID)
        let toMs = host.lastSeenMs
        let fromMs = request.sinceUnixNanos > 0
            ? request.sinceUnixNanos / 1_000_000 : Saturating.difference(toMs, defaultWindowSeconds * 1000)
        let window = try store.window(host: host, fromMs: fromMs, toMs: toMs, maximumSiteRows: maximumSiteRowsPerReport)
        var response = Leakwatch_V1_SitesResponse()
        response.requestID = request.requestID
        response.host = host.name
        let limit = request.limit > 0 ? Int(request.limit) : 100
        response.sites = try siteReports(window: window, verdict: try store.latestVerdict(hostId: host.id), limit: limit)
        return response
    }

    /// The sites of a window, growing ones first (by verdict), then by live bytes.
    func siteReports(window: HostWindow, verdict: VerdictRecord?, limit: Int) throws -> [Leakwatch_V1_SiteReport] {
        let verdictSites = Dictionary((verdict?.decodedSites ?? []).map { ($0.stackId, $0) }, uniquingKeysWith: { a, _ in a })
        let currentInstance = window.points.last?.instanceId
        struct Candidate { var stackId: Int64; var last: SiteSeriesPoint; var rate: Double; var status: Leakwatch_V1_VerdictStatus }
        var candidates: [Candidate] = []
        for (stackId, series) in window.sites {
            guard let last = series.last else { continue }
            let judged = verdictSites[stackId]
            let rate = judged?.rateBytesPerHour ?? Self.rateBytesPerHour(series.filter { $0.instanceId == currentInstance })
            let status: Leakwatch_V1_VerdictStatus = judged.map { Self.status($0.status) } ?? (verdict == nil ? .unknown : .ok)
            candidates.append(Candidate(stackId: stackId, last: last, rate: rate, status: status))
        }
        candidates.sort {
            if $0.status.rawValue != $1.status.rawValue { return $0.status.rawValue > $1.status.rawValue }
            if $0.last.liveBytes != $1.last.liveBytes { return $0.last.liveBytes > $1.last.liveBytes }
            return $0.stackId < $1.stackId
        }
        let chosen = candidates.prefix(limit)
        let stacks = Dictionary(try store.stacks(ids: chosen.map(\.stackId)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return chosen.map { candidate in
            var report = Leakwatch_V1_SiteReport()
            report.stackID = UInt64(clamping: candidate.stackId)
            report.liveBytes = UInt64(max(0, candidate.last.liveBytes))
            report.liveObjects = UInt64(max(0, candidate.last.liveObjects))
            report.allocatedBytes = UInt64(max(0, candidate.last.allocatedBytes))
            report.rateBytesPerHour = candidate.rate
            report.status = candidate.status
            if let stack = stacks[candidate.stackId] {
                if let typeName = stack.typeName { report.typeName = typeName }
                report.frames = stack.decodedFrames().map(Self.frame)
            }
            return report
        }
    }

    // MARK: Memory errors

    public func memoryErrors(_ request: Leakwatch_V1_MemoryErrorsRequest) throws -> Leakwatch_V1_MemoryErrorsResponse {
        let limit = request.limit > 0 ? Int(min(request.limit, 1000)) : defaultMemoryErrorSiteLimit
        let summaries = try store.memoryErrorSites(
            serviceName: request.serviceName, fromMs: request.sinceUnixNanos / 1_000_000, limit: limit)
        let frames = try framesByStack(summaries.flatMap { [$0.allocationStackId, $0.newest.accessStackId].compactMap { $0 } })
        var response = Leakwatch_V1_MemoryErrorsResponse()
        response.requestID = request.requestID
        response.sites = summaries.map { summary in
            var site = Leakwatch_V1_MemoryErrorSite()
            site.kind = SnapshotTranslator.memoryErrorKind(named: summary.kind)
            site.allocationFrames = summary.allocationStackId.flatMap { frames[$0] } ?? []
            site.hostCount = UInt32(clamping: summary.hostCount)
            site.occurrences = UInt64(clamping: summary.occurrences)
            site.firstSeenUnixNanos = Saturating.nanos(milliseconds: summary.firstSeenMs)
            site.lastSeenUnixNanos = Saturating.nanos(milliseconds: summary.lastSeenMs)
            site.hosts = summary.hostNames
            site.accessFrames = summary.newest.accessStackId.flatMap { frames[$0] } ?? []
            site.blockSizeBytes = UInt64(max(0, summary.newest.blockSizeBytes))
            return site
        }
        return response
    }

    /// Stored memory errors with their stacks' frames.
    func memoryErrorReports(_ records: [MemoryErrorRecord]) throws -> [Leakwatch_V1_MemoryErrorReport] {
        let frames = try framesByStack(records.flatMap { [$0.accessStackId, $0.allocationStackId, $0.freeStackId].compactMap { $0 } })
        return records.map { record in
            var report = Leakwatch_V1_MemoryErrorReport()
            report.kind = SnapshotTranslator.memoryErrorKind(named: record.kind)
            report.access = SnapshotTranslator.access(named: record.access)
            report.timestampUnixNanos = Saturating.nanos(milliseconds: record.timestampMs)
            report.faultAddress = UInt64(bitPattern: record.faultAddress)
            report.blockOffset = record.blockOffset
            report.blockSizeBytes = UInt64(max(0, record.blockSizeBytes))
            report.threadID = UInt32(truncatingIfNeeded: record.threadId)
            report.recovered = record.recovered
            report.accessFrames = record.accessStackId.flatMap { frames[$0] } ?? []
            report.allocationFrames = record.allocationStackId.flatMap { frames[$0] } ?? []
            report.freeFrames = record.freeStackId.flatMap { frames[$0] } ?? []
            return report
        }
    }

    private func framesByStack(_ ids: [Int64]) throws -> [Int64: [Leakwatch_V1_Frame]] {
        let unique = Array(Set(ids))
        guard !unique.isEmpty else { return [:] }
        return Dictionary(try store.stacks(ids: unique).map { ($0.id, $0.decodedFrames().map(Self.frame)) },
                          uniquingKeysWith: { a, _ in a })
    }

    // MARK: Series and stacks

    public func series(_ request: Leakwatch_V1_SeriesRequest) throws -> Leakwatch_V1_SeriesResponse {
        let host = try requireHost(request.host, requestID: request.requestID)
        let toMs = request.toUnixNanos > 0 ? request.toUnixNanos / 1_000_000 : max(host.lastSeenMs, nowMs())
        let fromMs = request.fromUnixNanos / 1_000_000
        guard fromMs <= toMs else {
            throw QueryError.badRequest("series range is empty: from is after to", requestID: request.requestID)
        }
        let window = try store.window(host: host, fromMs: fromMs, toMs: toMs, includeSites: request.hasStackID)
        var response = Leakwatch_V1_SeriesResponse()
        response.requestID = request.requestID
        response.host = host.name
        if request.hasStackID {
            response.stackID = request.stackID
            let points = window.sites[Int64(clamping: request.stackID)] ?? []
            let step = max(1, points.count / maximumSeriesPoints + (points.count % maximumSeriesPoints == 0 ? 0 : 1))
            response.points = stride(from: 0, to: points.count, by: step).map { index in
                let point = points[index]
                var out = Leakwatch_V1_SeriesPoint()
                out.timestampUnixNanos = Saturating.nanos(milliseconds: point.timestampMs)
                out.currentBytes = UInt64(max(0, point.liveBytes))
                out.liveObjects = UInt64(max(0, point.liveObjects))
                out.processInstanceID = Data(hexString: window.instanceKeys[point.instanceId] ?? "") ?? Data()
                return out
            }
        } else {
            response.points = Self.downsample(window.points, maximumPoints: maximumSeriesPoints).map {
                Self.seriesPoint($0, instanceKeys: window.instanceKeys)
            }
        }
        return response
    }

    public func stacks(_ request: Leakwatch_V1_StacksRequest) throws -> Leakwatch_V1_StacksResponse {
        _ = try requireHost(request.host, requestID: request.requestID)
        guard request.ids.count <= 10_000 else {
            throw QueryError.badRequest("at most 10,000 stack ids per request, got \(request.ids.count)", requestID: request.requestID)
        }
        var response = Leakwatch_V1_StacksResponse()
        response.requestID = request.requestID
        response.stacks = try store.stacks(ids: request.ids.map { Int64(clamping: $0) }).map { record in
            var stack = Leakwatch_V1_Stack()
            stack.id = UInt64(clamping: record.id)
            stack.frames = record.decodedFrames().map(Self.frame)
            return stack
        }
        return response
    }

    // MARK: Helpers

    func requireHost(_ name: String, requestID: UInt64) throws -> HostRecord {
        guard !name.isEmpty else { throw QueryError.badRequest("the request names no host", requestID: requestID) }
        guard let host = try store.host(named: name) else {
            throw QueryError.unknownHost(name, requestID: requestID, knownHosts: try nearHostNames(to: name))
        }
        return host
    }

    /// The known host names near `name`, nearest first (the cli ranks them the same way).
    func nearHostNames(to name: String) throws -> [String] {
        NameSuggestions.nearest(to: name, among: try store.hosts().map(\.name), limit: 5)
    }

    /// At most `maximumPoints` points: each time bucket keeps its floor (minimum), per instance.
    static func downsample(_ points: [HostSeriesPoint], maximumPoints: Int) -> [HostSeriesPoint] {
        guard points.count > maximumPoints, let first = points.first, let last = points.last else { return points }
        let width = max(1, Saturating.difference(last.timestampMs, first.timestampMs) / Int64(maximumPoints) + 1)
        var result: [HostSeriesPoint] = []
        result.reserveCapacity(maximumPoints + 8)
        var currentBucket = Int64.min
        for point in points {
            let bucket = Saturating.difference(point.timestampMs, first.timestampMs) / width
            if bucket == currentBucket, var floor = result.last, floor.instanceId == point.instanceId {
                floor.pointCount += point.pointCount
                floor.bytesInUseMax = max(floor.bytesInUseMax, point.bytesInUseMax)
                if point.bytesInUse < floor.bytesInUse {
                    floor.bytesInUse = point.bytesInUse
                    floor.timestampMs = point.timestampMs
                }
                floor.residentBytes = min(floor.residentBytes, point.residentBytes)
                result[result.count - 1] = floor
            } else {
                currentBucket = bucket
                result.append(point)
            }
        }
        return result
    }

    /// Theil–Sen slope of at most 48 evenly spaced points, bytes per hour.
    static func rateBytesPerHour(_ series: [SiteSeriesPoint]) -> Double {
        guard series.count >= 3 else { return 0 }
        let step = max(1, series.count / 48)
        let chosen = stride(from: 0, to: series.count, by: step).map { series[$0] }
        let x = chosen.map { Double($0.timestampMs) / 3_600_000 }
        let y = chosen.map { Double($0.liveBytes) }
        return TheilSen.slope(x: x, y: y) ?? 0
    }

    static func status(_ name: String) -> Leakwatch_V1_VerdictStatus {
        switch name {
        case "ok": .ok
        case "growing": .growing
        case "suspectedLeak": .suspectedLeak
        default: .unknown
        }
    }

    static func verdict(_ record: VerdictRecord) -> Leakwatch_V1_Verdict {
        var verdict = Leakwatch_V1_Verdict()
        verdict.status = status(record.status)
        verdict.rateBytesPerHour = record.rateBytesPerHour
        verdict.sinceUnixNanos = Saturating.nanos(milliseconds: record.sinceMs ?? 0)
        verdict.confidence = record.confidence
        verdict.responsibleStackIds = record.decodedSites.map { UInt64(clamping: $0.stackId) }
        verdict.explanation = record.summary
        return verdict
    }

    static func stats(_ stats: SnapshotStats) -> Leakwatch_V1_Stats {
        var out = Leakwatch_V1_Stats()
        out.totalAllocatedBytes = UInt64(max(0, stats.bytesAllocatedTotal))
        out.currentBytes = UInt64(max(0, stats.bytesInUse))
        out.peakBytes = UInt64(max(0, stats.peakBytesInUse))
        out.allocationCount = UInt64(max(0, stats.allocationCount))
        out.freeCount = UInt64(max(0, stats.freeCount))
        out.blocksOutstanding = stats.blocksOutstanding
        out.rssBytes = UInt64(max(0, stats.residentBytes))
        out.uptimeSeconds = stats.uptimeSeconds
        return out
    }

    static func seriesPoint(_ point: HostSeriesPoint, instanceKeys: [Int64: String]) -> Leakwatch_V1_SeriesPoint {
        var out = Leakwatch_V1_SeriesPoint()
        out.timestampUnixNanos = Saturating.nanos(milliseconds: point.timestampMs)
        out.currentBytes = UInt64(max(0, point.bytesInUse))
        out.rssBytes = UInt64(max(0, point.residentBytes))
        out.processInstanceID = Data(hexString: instanceKeys[point.instanceId] ?? "") ?? Data()
        return out
    }

    static func frame(_ frame: StackFrame) -> Leakwatch_V1_Frame {
        var out = Leakwatch_V1_Frame()
        out.function = frame.function
        out.file = frame.file
        out.line = frame.line
        out.image = frame.image
        out.address = frame.address
        if let imageOffset = frame.imageOffset { out.imageOffset = imageOffset }
        out.inlined = frame.inlined ?? false
        return out
    }

    static func event(_ record: EventRecord) -> Leakwatch_V1_Event {
        var event = Leakwatch_V1_Event()
        event.kind = SnapshotTranslator.kind(named: record.kind)
        event.timestampUnixNanos = Saturating.nanos(milliseconds: record.timestampMs)
        event.message = record.message
        if event.kind == .snapshotsDropped {
            event.droppedCount = UInt64(max(0, record.value))
        } else {
            event.value = UInt64(max(0, record.value))
        }
        event.thresholdBytes = UInt64(max(0, record.thresholdBytes))
        return event
    }
}
