import LeakWire

/// `collector-cli report`: one host's verdict, memory, chart, growing sites, sizes and events.
public struct ReportRenderer: Sendable {
    public static let width = 100
    public var nowUnixNanos: Int64
    public var style: TextStyle
    /// Frames shown per growing site.
    public var frameLimit: Int = 6
    /// Growing sites shown.
    public var siteLimit: Int = 5
    /// Show the allocator and runtime frames above the first frame with source.
    public var showRuntimeFrames = false

    public init(nowUnixNanos: Int64, style: TextStyle) {
        self.nowUnixNanos = nowUnixNanos
        self.style = style
    }

    // MARK: Text

    /// The verdict, in one line a person reads before anything else.
    public func verdictLine(_ report: Leakwatch_V1_HostReportResponse) -> String {
        let verdict = report.verdict
        let status = HostStatus(verdict.status)
        var line = style.bold(report.host) + "  " + style.status(status, status.headline)
        switch status {
        case .suspectedLeak, .growing:
            line += "  " + style.bold(Units.rate(bytesPerHour: verdict.rateBytesPerHour))
            if verdict.sinceUnixNanos != 0 {
                line += " since " + Units.minuteTime(unixNanos: verdict.sinceUnixNanos)
                    + " (" + Units.ago(unixNanos: verdict.sinceUnixNanos, now: nowUnixNanos) + ")"
            }
            line += ", confidence " + percent(verdict.confidence)
        case .ok:
            line += "  no sustained growth, confidence " + percent(verdict.confidence)
        case .notEnoughData:
            // The explanation says how much more data the first trend test needs.
            let needs = verdict.explanation.split(separator: ";").first.map(String.init) ?? ""
            line += "  " + (needs.hasPrefix("needs") ? needs : "needs more snapshots")
        }
        return line
    }

    public func text(_ report: Leakwatch_V1_HostReportResponse) -> String {
        var lines: [String] = [verdictLine(report)]
        var context = "service " + (report.serviceName.isEmpty ? "(none)" : report.serviceName)
        if !report.verdict.explanation.isEmpty { context += " · " + report.verdict.explanation }
        lines.append(style.dim(Units.fit(context, width: Self.width)))

        lines.append("")
        lines.append(contentsOf: memorySection(report))
        lines.append("")
        lines.append(contentsOf: chartSection(report))
        lines.append("")
        lines.append(contentsOf: sitesSection(report))
        lines.append("")
        lines.append(contentsOf: sizesSection(report))
        lines.append("")
        lines.append(contentsOf: eventsSection(report))
        if !report.memoryErrors.isEmpty {
            lines.append("")
            lines.append(contentsOf: memoryErrorsSection(report))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func percent(_ fraction: Double) -> String { "\(Saturating.int(fraction * 100))%" }

    private func heading(_ title: String, _ detail: String = "") -> String {
        style.bold(title) + (detail.isEmpty ? "" : "  " + style.dim(detail))
    }

    private func memorySection(_ report: Leakwatch_V1_HostReportResponse) -> [String] {
        let stats = report.latestStats
        var detail = "latest snapshot " + Units.minuteTime(unixNanos: report.latestTimestampUnixNanos)
            + " (" + Units.ago(unixNanos: report.latestTimestampUnixNanos, now: nowUnixNanos) + ")"
        detail += ", uptime " + Units.duration(seconds: stats.uptimeSeconds)
        func cell(_ name: String, _ value: String) -> String { Units.pad(name, 13) + Units.pad(value, 18) }
        return [
            heading("Memory", detail),
            "  " + cell("heap in use", Units.bytes(stats.currentBytes)) + cell("peak", Units.bytes(stats.peakBytes))
                + cell("RSS", Units.bytes(stats.rssBytes)),
            "  " + cell("allocated", Units.bytes(stats.totalAllocatedBytes)) + cell("allocations", Units.count(stats.allocationCount))
                + cell("frees", Units.count(stats.freeCount)),
            "  " + cell("outstanding", Units.count(stats.blocksOutstanding) + " blocks"),
        ].map { trimTrailing($0) }
    }

    private func chartSection(_ report: Leakwatch_V1_HostReportResponse) -> [String] {
        let points = report.series.map {
            MemoryChart.Point(timestampUnixNanos: $0.timestampUnixNanos, heapBytes: Double($0.currentBytes),
                              rssBytes: Double($0.rssBytes), instance: Array($0.processInstanceID))
        }
        var detail = "\(report.series.count) points"
        if let first = report.series.first, let last = report.series.last {
            detail += " over " + Units.duration(seconds: Saturating.seconds(from: first.timestampUnixNanos, to: last.timestampUnixNanos))
        }
        let restarts = restartTimes(report).count
        if restarts > 0 { detail += ", \(restarts) restart" + (restarts == 1 ? "" : "s") }
        return [heading("Heap and RSS", detail)] + MemoryChart().render(points, style: style)
    }

    func restartTimes(_ report: Leakwatch_V1_HostReportResponse) -> [Int64] {
        var times: [Int64] = []
        var previous: [UInt8]?
        for point in report.series.sorted(by: { $0.timestampUnixNanos < $1.timestampUnixNanos }) {
            let instance = Array(point.processInstanceID)
            if let previous, previous != instance { times.append(point.timestampUnixNanos) }
            previous = instance
        }
        return times
    }

    /// Sites the verdict blames or that grow, fastest first.
    func growingSites(_ report: Leakwatch_V1_HostReportResponse) -> [Leakwatch_V1_SiteReport] {
        let responsible = Set(report.verdict.responsibleStackIds)
        return report.sites.filter { site in
            responsible.contains(site.stackID) || HostStatus(site.status) >= .growing
        }.sorted { a, b in
            let ra = responsible.contains(a.stackID), rb = responsible.contains(b.stackID)
            if ra != rb { return ra }
            if a.rateBytesPerHour != b.rateBytesPerHour { return a.rateBytesPerHour > b.rateBytesPerHour }
            return a.stackID < b.stackID
        }
    }

    /// The sites a report shows: the first `siteLimit` growing ones, or when none grows the
    /// three largest.
    func shownSites(_ report: Leakwatch_V1_HostReportResponse) -> (sites: [Leakwatch_V1_SiteReport], growing: Bool) {
        let growing = growingSites(report)
        guard growing.isEmpty else { return (Array(growing.prefix(siteLimit)), true) }
        let largest = report.sites.sorted { $0.liveBytes != $1.liveBytes ? $0.liveBytes > $1.liveBytes : $0.stackID < $1.stackID }
        return (Array(largest.prefix(3)), false)
    }

    private func sitesSection(_ report: Leakwatch_V1_HostReportResponse) -> [String] {
        let growing = growingSites(report)
        let shown = shownSites(report).sites
        var lines: [String]
        if growing.isEmpty {
            lines = [heading("Growing sites", "none of \(report.sites.count) sampled sites is growing"
                + (shown.isEmpty ? "" : "; the largest live sites:"))]
        } else {
            lines = [heading("Growing sites", "\(growing.count) of \(report.sites.count) sampled sites")]
        }
        for (index, site) in shown.enumerated() {
            lines.append(contentsOf: SiteRendering.block(
                site, rank: index + 1, frameLimit: frameLimit, width: Self.width, style: style,
                showRuntimeFrames: showRuntimeFrames))
        }
        if growing.count > shown.count && !growing.isEmpty {
            lines.append(style.dim("     … \(growing.count - shown.count) more: collector-cli sites --host \(report.host)"))
        }
        return lines
    }

    private func sizesSection(_ report: Leakwatch_V1_HostReportResponse) -> [String] {
        let sizes = report.topSizes.sorted { $0.count != $1.count ? $0.count > $1.count : $0.size < $1.size }.prefix(8)
        guard !sizes.isEmpty else { return [heading("Top allocation sizes", "none reported")] }
        var lines = [heading("Top allocation sizes", "by count since process start")]
        // Two columns of up to four: "  64 B        1,234,567".
        let half = (sizes.count + 1) / 2
        let sizeArray = Array(sizes)
        for row in 0..<half {
            var line = ""
            for entry in [sizeArray[row]] + (row + half < sizeArray.count ? [sizeArray[row + half]] : []) {
                line += "  " + Units.padLeft(Units.bytes(entry.size), 10) + "  " + Units.pad(Units.count(entry.count) + " allocations", 30)
            }
            lines.append(trimTrailing(line))
        }
        return lines
    }

    private func eventsSection(_ report: Leakwatch_V1_HostReportResponse) -> [String] {
        let events = report.recentEvents.sorted { $0.timestampUnixNanos > $1.timestampUnixNanos }.prefix(8)
        guard !events.isEmpty else { return [heading("Recent events", "none")] }
        var lines = [heading("Recent events", "newest first, times UTC")]
        for event in events {
            let line = "  " + Units.shortTime(unixNanos: event.timestampUnixNanos) + "  " + Self.describe(event)
            lines.append(Units.fit(line, width: Self.width))
        }
        return lines
    }

    /// Shown only when the guarded pool caught something: most hosts never have a line of it.
    private func memoryErrorsSection(_ report: Leakwatch_V1_HostReportResponse) -> [String] {
        let errors = report.memoryErrors.sorted { $0.timestampUnixNanos > $1.timestampUnixNanos }
        var lines = [heading("Memory errors", "caught by the guarded pool, newest first, times UTC")]
        for error in errors.prefix(5) {
            lines.append(contentsOf: MemoryErrorRendering.block(error, frameLimit: 2, width: Self.width))
        }
        if errors.count > 5 { lines.append(style.dim("  … \(errors.count - 5) more: collector-cli report --format json")) }
        return lines
    }

    static func kindName(_ kind: Leakwatch_V1_EventKind) -> String {
        switch kind {
        case .thresholdWarning: "threshold-warning"
        case .thresholdCritical: "threshold-critical"
        case .thresholdCleared: "threshold-cleared"
        case .snapshotsDropped: "snapshots-dropped"
        case .agentError: "agent-error"
        case .memoryError: "memory-error"
        default: "unknown"
        }
    }

    static func describe(_ event: Leakwatch_V1_Event) -> String {
        var text: String
        switch event.kind {
        case .thresholdWarning, .thresholdCritical:
            let level = event.kind == .thresholdCritical ? "critical" : "warning"
            text = "\(level): heap \(Units.bytes(event.value)) crossed "
                + (event.thresholdBytes > 0 ? "the threshold \(Units.bytes(event.thresholdBytes))" : "its threshold")
        case .thresholdCleared:
            text = "cleared: heap \(Units.bytes(event.value)) back under "
                + (event.thresholdBytes > 0 ? Units.bytes(event.thresholdBytes) : "its threshold")
        case .snapshotsDropped:
            text = "dropped data: \(Units.count(event.droppedCount)) snapshots lost"
        case .agentError:
            text = "agent error"
        case .memoryError:
            text = "memory error"
        default:
            text = "event \(event.kind.rawValue)"
        }
        if !event.message.isEmpty { text += ": " + event.message }
        return text
    }

    private func trimTrailing(_ text: String) -> String {
        var text = text
        while text.last == " " { text.removeLast() }
        return text
    }

    // MARK: JSON

    public func json(_ report: Leakwatch_V1_HostReportResponse, windowStartUnixNanos: Int64) -> JSONValue {
        let verdict = report.verdict, stats = report.latestStats
        let instanceHex: (Leakwatch_V1_SeriesPoint) -> String = { point in
            point.processInstanceID.map { String(format: "%02x", $0) }.joined()
        }
        return .object([
            ("schemaVersion", .integer(1)),
            ("host", .string(report.host)),
            ("service", .string(report.serviceName)),
            ("generatedAt", .time(unixNanos: nowUnixNanos)),
            ("windowStart", .time(unixNanos: windowStartUnixNanos)),
            ("verdict", .object([
                ("status", .string(HostStatus(verdict.status).rawValue)),
                ("rateBytesPerHour", .integer(Saturating.int64(verdict.rateBytesPerHour))),
                ("since", .time(unixNanos: verdict.sinceUnixNanos)),
                ("confidence", .decimal(verdict.confidence, places: 3)),
                ("explanation", .string(verdict.explanation)),
                ("responsibleStackIds", .array(verdict.responsibleStackIds.map { .unsigned($0) })),
            ])),
            ("latest", .object([
                ("time", .time(unixNanos: report.latestTimestampUnixNanos)),
                ("currentBytes", .unsigned(stats.currentBytes)),
                ("peakBytes", .unsigned(stats.peakBytes)),
                ("rssBytes", .unsigned(stats.rssBytes)),
                ("totalAllocatedBytes", .unsigned(stats.totalAllocatedBytes)),
                ("allocationCount", .unsigned(stats.allocationCount)),
                ("freeCount", .unsigned(stats.freeCount)),
                ("blocksOutstanding", .integer(stats.blocksOutstanding)),
                ("uptimeSeconds", .decimal(stats.uptimeSeconds, places: 3)),
            ])),
            ("series", .array(report.series.map { point in
                .object([
                    ("time", .time(unixNanos: point.timestampUnixNanos)),
                    ("currentBytes", .unsigned(point.currentBytes)),
                    ("rssBytes", .unsigned(point.rssBytes)),
                    ("processInstance", .string(instanceHex(point))),
                ])
            })),
            ("restarts", .array(restartTimes(report).map { .time(unixNanos: $0) })),
            ("growingSites", .array(growingSites(report).map { .unsigned($0.stackID) })),
            ("sites", .array(report.sites.map(SiteRendering.json))),
            ("topSizes", .array(report.topSizes.map { .object([("sizeBytes", .unsigned($0.size)), ("count", .unsigned($0.count))]) })),
            ("sizeClasses", .array(report.sizeClasses.map {
                .object([("upperBoundBytes", .unsigned($0.upperBoundBytes)), ("count", .unsigned($0.count)), ("bytes", .unsigned($0.bytes))])
            })),
            ("events", .array(report.recentEvents.map { event in
                .object([
                    ("time", .time(unixNanos: event.timestampUnixNanos)),
                    ("kind", .string(Self.kindName(event.kind))),
                    ("valueBytes", .unsigned(event.value)),
                    ("thresholdBytes", .unsigned(event.thresholdBytes)),
                    ("droppedCount", .unsigned(event.droppedCount)),
                    ("message", .string(event.message)),
                ])
            })),
            ("memoryErrors", .array(report.memoryErrors.map(MemoryErrorRendering.json))),
        ])
    }
}
