import LeakWire

/// `collector-cli report --format html`: the text report's sections as one page a person
/// attaches to a ticket. Every number comes from the same response as `--format json`, and each
/// carries its exact value in `data-value` beside the human one.
extension ReportRenderer {
    /// What the page draws besides the report itself.
    public struct PageExtras: Sendable {
        /// Each shown growing site's live bytes over the window, by stack id.
        public var siteSeries: [UInt64: [Leakwatch_V1_SeriesPoint]] = [:]
        /// Every sampled site of the host, for the flame graph (the report carries the top ones).
        public var heapSites: [Leakwatch_V1_SiteReport]?

        public init(siteSeries: [UInt64: [Leakwatch_V1_SeriesPoint]] = [:], heapSites: [Leakwatch_V1_SiteReport]? = nil) {
            self.siteSeries = siteSeries
            self.heapSites = heapSites
        }
    }

    static let pageWidth = 1136.0
    /// Names longer than this (a 40,000-character C++ template, a generated type) are cut on the
    /// page, whole in their hover title.
    static let longestName = 300

    public func html(_ report: Leakwatch_V1_HostReportResponse, windowStartUnixNanos: Int64, extras: PageExtras = PageExtras()) -> String {
        let status = HostStatus(report.verdict.status)
        let body: HTML = """
            \(verdictHeader(report, windowStartUnixNanos: windowStartUnixNanos))
            \(figures(report))
            \(memoryChart(report))
            \(sitesHTML(report, extras: extras))
            \(flameGraph(report, extras: extras))
            \(sizesHTML(report))
            \(eventsHTML(report))
            \(memoryErrorsHTML(report))
            <footer class="generated">The same numbers for programs: <code>collector-cli report --host \(ShellWord.quoted(report.host)) \
            --format json</code></footer>
            """
        return HTMLPage.document(title: "\(report.host): \(status.headline.lowercased()) · Leakwatch", body: body).markup
    }

    // MARK: Verdict

    private func verdictHeader(_ report: Leakwatch_V1_HostReportResponse, windowStartUnixNanos: Int64) -> HTML {
        let verdict = report.verdict
        let status = HostStatus(verdict.status)
        var parts: [HTML] = ["<span class=\"host\" data-field=\"host\">\(report.host)</span>", HTMLPage.badge(status)]
        let rate = HTMLPage.figure("verdict-rate", value: String(Saturating.int64(verdict.rateBytesPerHour)),
                                   shown: Units.rate(bytesPerHour: verdict.rateBytesPerHour), extraClass: "rate")
        let confidence = HTMLPage.figure("confidence", value: JSONValue.decimal(verdict.confidence, places: 3).bare,
                                         shown: "confidence \(Saturating.int(verdict.confidence * 100))%", extraClass: "aside")
        switch status {
        case .suspectedLeak, .growing:
            parts.append(rate)
            if verdict.sinceUnixNanos != 0 {
                let since = Units.minuteTime(unixNanos: verdict.sinceUnixNanos)
                parts.append("<span class=\"aside\">since \(since) (\(Units.ago(unixNanos: verdict.sinceUnixNanos, now: nowUnixNanos)))</span>")
            }
            parts.append(confidence)
        case .ok:
            parts.append("<span class=\"aside\">no sustained growth</span>")
            parts.append(confidence)
        case .notEnoughData:
            let needs = verdict.explanation.split(separator: ";").first.map(String.init) ?? ""
            parts.append("<span class=\"aside\">\(needs.hasPrefix("needs") ? needs : "needs more snapshots")</span>")
        }
        var context = "service " + (report.serviceName.isEmpty ? "(none)" : report.serviceName)
        if !verdict.explanation.isEmpty { context += " · " + verdict.explanation }
        var window = "Generated \(Units.minuteTime(unixNanos: nowUnixNanos)) by collector-cli \(CollectorCLI.version)"
        window += windowStartUnixNanos > 0
            ? " · window from \(Units.minuteTime(unixNanos: windowStartUnixNanos))"
            : " · the collector's default window"
        window += " · times UTC"
        return """
            <header>
            <h1 class="verdict" data-status="\(status.rawValue)">\(HTML.joined(parts, separator: " "))</h1>
            <p class="context">\(context)</p>
            <p class="generated">\(window)</p>
            </header>
            """
    }

    private func figures(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
        let stats = report.latestStats
        func cell(_ label: String, _ value: HTML, _ sub: HTML) -> HTML {
            "<div><div class=\"label\">\(label)</div><div class=\"value\">\(value)</div><div class=\"sub\">\(sub)</div></div>"
        }
        func bytes(_ field: String, _ value: UInt64) -> HTML {
            HTMLPage.figure(field, value: String(value), shown: Units.bytes(value))
        }
        let latest = report.latestTimestampUnixNanos
        // No trend test has run: a rate of 0 would read as an all-clear.
        let growth = HostStatus(report.verdict.status) == .notEnoughData ? "–" : Units.rate(bytesPerHour: report.verdict.rateBytesPerHour)
        return """
            <div class="figures">\
            \(cell("Heap in use", bytes("heap", stats.currentBytes), "peak \(bytes("peak", stats.peakBytes))"))\
            \(cell("RSS", stats.rssBytes == 0 ? "–" : bytes("rss", stats.rssBytes), "resident set"))\
            \(cell("Growth", HTMLPage.figure("growth", value: String(Saturating.int64(report.verdict.rateBytesPerHour)), shown: growth),
                   "of the heap, per hour"))\
            \(cell("Allocated", bytes("allocated", stats.totalAllocatedBytes),
                   "\(Units.count(stats.allocationCount)) allocations, \(Units.count(stats.freeCount)) frees"))\
            \(cell("Outstanding", HTMLPage.figure("outstanding", value: String(stats.blocksOutstanding),
                                                  shown: Units.count(stats.blocksOutstanding)), "blocks"))\
            \(cell("Uptime", "\(Units.duration(seconds: stats.uptimeSeconds))",
                   "latest snapshot \(Units.ago(unixNanos: latest, now: nowUnixNanos))"))\
            </div>
            """
    }

    // MARK: Heap and RSS

    private func memoryChart(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
        let restarts = restartTimes(report)
        var detail = "\(report.series.count) points"
        if let first = report.series.first, let last = report.series.last {
            detail += " over " + Units.duration(seconds: Saturating.seconds(from: first.timestampUnixNanos, to: last.timestampUnixNanos))
        }
        if !restarts.isEmpty { detail += ", \(restarts.count) restart" + (restarts.count == 1 ? "" : "s") }
        let heap = report.series.map {
            TimeSeriesChart.Point(timeUnixNanos: $0.timestampUnixNanos, bytes: Double($0.currentBytes), instance: Array($0.processInstanceID))
        }
        let rss = report.series.filter { $0.rssBytes > 0 }.map {
            TimeSeriesChart.Point(timeUnixNanos: $0.timestampUnixNanos, bytes: Double($0.rssBytes), instance: Array($0.processInstanceID))
        }
        var marks = restarts.map {
            TimeSeriesChart.Mark(timeUnixNanos: $0, kind: .restart, bytes: nil, label: "process restart at \(Units.minuteTime(unixNanos: $0))")
        }
        var levels: [TimeSeriesChart.Level] = []
        for event in report.recentEvents.sorted(by: { $0.timestampUnixNanos < $1.timestampUnixNanos }) {
            let kind: TimeSeriesChart.MarkKind
            switch event.kind {
            case .thresholdWarning: kind = .warning
            case .thresholdCritical: kind = .critical
            case .thresholdCleared: kind = .cleared
            default: continue
            }
            marks.append(TimeSeriesChart.Mark(timeUnixNanos: event.timestampUnixNanos, kind: kind, bytes: Double(event.value),
                                              label: Units.shortTime(unixNanos: event.timestampUnixNanos) + "  " + Self.describe(event)))
            if kind != .cleared, event.thresholdBytes > 0 {
                levels.removeAll { $0.kind == kind }
                levels.append(TimeSeriesChart.Level(bytes: Double(event.thresholdBytes), kind: kind,
                                                    label: "\(kind.rawValue) threshold \(Units.bytes(event.thresholdBytes))"))
            }
        }
        let chart = TimeSeriesChart(width: Self.pageWidth, height: 300).svg(
            [TimeSeriesChart.Series(name: "RSS", points: rss), TimeSeriesChart.Series(name: "heap", points: heap, filled: true)],
            marks: marks, levels: levels, label: "heap in use and RSS over the window")
        var legend: [HTML] = ["<span><span class=\"key heap\"></span>heap in use</span>",
                              "<span><span class=\"key rss\"></span>RSS</span>"]
        if !restarts.isEmpty { legend.append("<span><span class=\"key restart\"></span>process restart</span>") }
        if marks.contains(where: { $0.kind == .warning }) { legend.append("<span><span class=\"key warning\"></span>warning threshold crossed</span>") }
        if marks.contains(where: { $0.kind == .critical }) { legend.append("<span><span class=\"key critical\"></span>critical threshold crossed</span>") }
        return """
            <section id="memory"><header><h2>Heap and RSS</h2><span class="detail">\(detail)</span></header>
            \(chart)<div class="legend">\(legend)</div></section>
            """
    }

    // MARK: Flame graph

    private func flameGraph(_ report: Leakwatch_V1_HostReportResponse, extras: PageExtras) -> HTML {
        let sites = extras.heapSites ?? report.sites
        let icicle = StackIcicle(sites: sites, host: report.host)
        let total = icicle.nodes[0].bytes
        let legend: HTML = """
            <div class="legend"><span>width: live bytes</span><span>colour: share of the host's growth</span>\
            <span><span class="swatch" style="background:\(StackIcicle.colour(share: 0).fill)"></span>none</span>\
            <span><span class="swatch" style="background:\(StackIcicle.colour(share: 0.1).fill)"></span>10%</span>\
            <span><span class="swatch" style="background:\(StackIcicle.colour(share: 0.5).fill)"></span>50%</span>\
            <span><span class="swatch" style="background:\(StackIcicle.colour(share: 1).fill)"></span>all of it</span>\
            <span>outermost caller at the top; hover a frame for its file:line, bytes and rate</span></div>
            """
        return """
            <section id="flame"><header><h2>Live heap by stack</h2><span class="detail">\(Units.count(sites.count)) sampled \
            site\(sites.count == 1 ? "" : "s"), \(Units.bytes(total)) live</span></header>
            \(icicle.svg(width: Self.pageWidth))\(legend)</section>
            """
    }

}

extension JSONValue {
    /// The value as `rendered()` prints it, without the final newline: `0.97`.
    var bare: String {
        var text = rendered()
        text.removeLast()
        return text
    }
}
