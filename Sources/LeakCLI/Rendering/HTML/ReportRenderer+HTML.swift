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

    /// The growing sites the page shows, as `sitesSection` picks them for text.
    func shownSites(_ report: Leakwatch_V1_HostReportResponse) -> (sites: [Leakwatch_V1_SiteReport], growing: Bool) {
        let growing = growingSites(report)
        guard growing.isEmpty else { return (Array(growing.prefix(siteLimit)), true) }
        let largest = report.sites.sorted { $0.liveBytes != $1.liveBytes ? $0.liveBytes > $1.liveBytes : $0.stackID < $1.stackID }
        return (Array(largest.prefix(min(3, siteLimit))), false)
    }

    public func html(_ report: Leakwatch_V1_HostReportResponse, windowStartUnixNanos: Int64, extras: PageExtras = PageExtras()) -> String {
        let status = HostStatus(report.verdict.status)
        let body: HTML = """
            \(verdictHeader(report, windowStartUnixNanos: windowStartUnixNanos))
            \(figures(report))
            \(memoryChart(report))
            \(sitesSection(report, extras: extras))
            \(flameGraph(report, extras: extras))
            \(sizes(report))
            \(events(report))
            \(memoryErrors(report))
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
            [TimeSeriesChart.Series(cssClass: "rss", points: rss), TimeSeriesChart.Series(cssClass: "heap", points: heap, filled: true)],
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

    // MARK: Growing sites

    private func sitesSection(_ report: Leakwatch_V1_HostReportResponse, extras: PageExtras) -> HTML {
        let (shown, growing) = shownSites(report)
        let growingCount = growingSites(report).count
        let detail = growing
            ? "\(growingCount) of \(report.sites.count) sampled sites"
            : "none of \(report.sites.count) sampled sites is growing" + (shown.isEmpty ? "" : "; the largest live sites")
        var articles = shown.enumerated().map { index, site in
            siteArticle(site, rank: index + 1, series: extras.siteSeries[site.stackID] ?? [])
        }
        if growing && growingCount > shown.count {
            articles.append("""
                <p class="muted">… \(growingCount - shown.count) more: <code>collector-cli sites --host \(ShellWord.quoted(report.host))</code></p>
                """)
        }
        return """
            <section id="sites"><header><h2>Growing sites</h2><span class="detail">\(detail)</span></header>
            <div class="sites">\(articles)</div></section>
            """
    }

    private func siteArticle(_ site: Leakwatch_V1_SiteReport, rank: Int, series: [Leakwatch_V1_SeriesPoint]) -> HTML {
        let status = HostStatus(site.status)
        var summary: [HTML] = [
            "<span class=\"rank\">\(rank).</span>",
            HTMLPage.figure("site-rate", value: String(Saturating.int64(site.rateBytesPerHour)),
                            shown: Units.rate(bytesPerHour: site.rateBytesPerHour), extraClass: "rate"),
            HTMLPage.badge(status),
            """
            <span>live \(HTMLPage.figure("site-live-bytes", value: String(site.liveBytes), shown: Units.bytes(site.liveBytes)))\
            \(site.liveObjects > 0 ? " in \(Units.count(site.liveObjects)) objects" : "")</span>
            """,
        ]
        if let type = SiteRendering.typeName(site) {
            summary.append("<span class=\"type\" title=\"\(type)\">type <strong>\(Units.fit(type, width: Self.longestName))</strong></span>")
        }
        let points = series.map {
            TimeSeriesChart.Point(timeUnixNanos: $0.timestampUnixNanos, bytes: Double($0.currentBytes), instance: Array($0.processInstanceID))
        }
        var restarts: [TimeSeriesChart.Mark] = []
        for (a, b) in zip(series, series.dropFirst()) where a.processInstanceID != b.processInstanceID {
            restarts.append(TimeSeriesChart.Mark(timeUnixNanos: b.timestampUnixNanos, kind: .restart, bytes: nil, label: "process restart"))
        }
        var caption: HTML = "<div class=\"chart-note\">no series for this site in the window</div>"
        if let low = series.map(\.currentBytes).min(), let high = series.map(\.currentBytes).max() {
            caption = "<div class=\"chart-note\">live bytes over the window: \(Units.bytes(low)) to \(Units.bytes(high))</div>"
        }
        let chart = points.isEmpty ? HTML.empty
            : TimeSeriesChart(width: 320, height: 72, compact: true).svg([TimeSeriesChart.Series(cssClass: "heap", points: points, filled: true)],
                                                                          marks: restarts, label: "live bytes of this site")
        return """
            <article class="site" data-stack-id="\(site.stackID)" data-live-bytes="\(site.liveBytes)" \
            data-rate="\(Saturating.int64(site.rateBytesPerHour))"><div><div class="summary">\(summary)</div>\
            \(frameList(site))</div><div>\(chart)\(caption)</div></article>
            """
    }

    /// The stack innermost first, the allocator's and runtimes' frames folded as in text, the
    /// first frame of the application in bold: where to look.
    private func frameList(_ site: Leakwatch_V1_SiteReport) -> HTML {
        guard !site.frames.isEmpty else { return "<ul class=\"frames\"><li class=\"folded\">stack \(site.stackID) not symbolized</li></ul>" }
        var items: [HTML] = []
        let hidden = showRuntimeFrames ? 0 : SiteRendering.leadingRuntimeFrameCount(site.frames)
        if hidden > 0 {
            items.append("<li class=\"folded\">… \(hidden) allocator and runtime frame\(hidden == 1 ? "" : "s")</li>")
        }
        let shown = Array(site.frames.dropFirst(hidden))
        let limit = max(frameLimit, SiteRendering.framesToFirstApplicationFrame(site.frames, showRuntimeFrames: showRuntimeFrames))
        let application = SiteRendering.applicationImage(site.frames)
        let firstApplication = shown.firstIndex { $0.image == application && !$0.isRuntime }
        for (index, frame) in shown.prefix(limit).enumerated() {
            items.append("<li\(index == firstApplication ? " class=\"application\"" as HTML : .empty)>\(Self.frameHTML(frame))</li>")
        }
        if shown.count > limit {
            items.append("<li class=\"folded\">… \(shown.count - limit) more frame\(shown.count - limit == 1 ? "" : "s")</li>")
        }
        return "<ul class=\"frames\">\(items)</ul>"
    }

    static func frameHTML(_ frame: Leakwatch_V1_Frame) -> HTML {
        let function = frame.function.isEmpty ? (frame.address == 0 ? "???" : "0x" + String(frame.address, radix: 16)) : frame.function
        var location = ""
        if !frame.file.isEmpty {
            let base = frame.file.split(separator: "/").last.map(String.init) ?? frame.file
            location = frame.line > 0 ? "\(base):\(frame.line)" : base
        } else if !frame.image.isEmpty {
            location = frame.image.split(separator: "/").last.map(String.init) ?? frame.image
        }
        let place: HTML = location.isEmpty ? .empty
            : " <span class=\"location\" title=\"\(frame.file.isEmpty ? frame.image : frame.file)\">(\(Units.fit(location, width: longestName)))</span>"
        let name: HTML = function.count > longestName
            ? "<span title=\"\(function)\">\(Units.fit(function, width: longestName))</span>" : "\(function)"
        return "\(name)\(place)\(frame.inlined ? " <span class=\"inlined\">inlined</span>" as HTML : .empty)"
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

    // MARK: Sizes

    private func sizes(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
        let classes = report.sizeClasses.sorted { $0.upperBoundBytes < $1.upperBoundBytes }
        let maxCount = Double(classes.map(\.count).max() ?? 0), maxBytes = Double(classes.map(\.bytes).max() ?? 0)
        func bar(_ value: UInt64, of maximum: Double, _ extraClass: String = "") -> HTML {
            let percent = maximum > 0 ? Double(value) / maximum * 100 : 0
            return "<div class=\"bar\(extraClass)\" style=\"width:\(px: percent)%\"></div>"
        }
        var histogram: HTML = "<p class=\"muted\">No size classes reported.</p>"
        if !classes.isEmpty {
            var rows: [HTML] = []
            for (index, sizeClass) in classes.enumerated() {
                let label: String
                // The last class is open (UINT64_MAX on the wire, Int64.max once stored).
                if sizeClass.upperBoundBytes >= UInt64(Int64.max) {
                    label = index == 0 ? "any size" : "> " + Units.bytes(classes[index - 1].upperBoundBytes)
                } else {
                    label = "≤ " + Units.bytes(sizeClass.upperBoundBytes)
                }
                rows.append("""
                    <tr><td class="nowrap">\(label)</td><td class="number">\(Units.count(sizeClass.count))</td>\
                    <td style="width:30%">\(bar(sizeClass.count, of: maxCount))</td><td class="number">\(Units.bytes(sizeClass.bytes))</td>\
                    <td style="width:30%">\(bar(sizeClass.bytes, of: maxBytes, " bytes"))</td></tr>
                    """)
            }
            histogram = """
                <table class="histogram"><thead><tr><th>size class</th><th class="number">allocations</th><th></th>\
                <th class="number">bytes</th><th></th></tr></thead><tbody>\(rows)</tbody></table>
                """
        }
        let top = report.topSizes.sorted { $0.count != $1.count ? $0.count > $1.count : $0.size < $1.size }.prefix(8)
        var exact: HTML = "<p class=\"muted\">No exact sizes reported.</p>"
        if !top.isEmpty {
            let rows = top.map { entry -> HTML in
                "<tr><td class=\"number\">\(Units.bytes(entry.size))</td><td class=\"number\">\(Units.count(entry.count))</td></tr>"
            }
            exact = """
                <table><thead><tr><th class="number">exact size</th><th class="number">allocations</th></tr></thead>\
                <tbody>\(rows)</tbody></table>
                """
        }
        return """
            <section id="sizes"><header><h2>Allocation sizes</h2><span class="detail">by count since process start</span></header>
            <div class="columns"><div>\(histogram)</div><div>\(exact)</div></div></section>
            """
    }

    // MARK: Events

    private func events(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
        let events = report.recentEvents.sorted { $0.timestampUnixNanos > $1.timestampUnixNanos }
        let restarts = restartTimes(report)
        guard !events.isEmpty || !restarts.isEmpty else {
            return "<section id=\"events\"><header><h2>Events</h2><span class=\"detail\">none in the window</span></header></section>"
        }
        var rows: [(time: Int64, html: HTML)] = events.map { event in
            (event.timestampUnixNanos, """
                <tr><td class="nowrap">\(Units.shortTime(unixNanos: event.timestampUnixNanos))</td>\
                <td class="nowrap">\(Self.kindName(event.kind))</td><td class="wrap">\(Self.describe(event))</td></tr>
                """)
        }
        rows += restarts.map { time in
            (time, """
                <tr><td class="nowrap">\(Units.shortTime(unixNanos: time))</td><td class="nowrap">restart</td>\
                <td>a new process instance started reporting</td></tr>
                """)
        }
        rows.sort { $0.time > $1.time }
        return """
            <section id="events"><header><h2>Events</h2><span class="detail">newest first, times UTC</span></header>
            <table><thead><tr><th>time</th><th>kind</th><th>what happened</th></tr></thead><tbody>\(rows.map(\.html))</tbody></table></section>
            """
    }

    private func memoryErrors(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
        guard !report.memoryErrors.isEmpty else { return .empty }
        let errors = report.memoryErrors.sorted { $0.timestampUnixNanos > $1.timestampUnixNanos }
        let rows = errors.prefix(20).map { error -> HTML in
            var stacks: [HTML] = []
            for (label, frames) in [("at", error.accessFrames), ("freed at", error.freeFrames), ("allocated at", error.allocationFrames)] {
                for (index, frame) in MemoryErrorRendering.topFrames(frames, limit: 2).enumerated() {
                    stacks.append("<li>\(index == 0 ? label : "") \(Self.frameHTML(frame))</li>")
                }
            }
            return """
                <tr><td class="nowrap">\(Units.shortTime(unixNanos: error.timestampUnixNanos))</td>\
                <td class="nowrap"><strong>\(MemoryErrorRendering.kindName(error.kind))</strong></td>\
                <td>\(MemoryErrorRendering.placement(error)), thread \(error.threadID), \(error.recovered ? "ran on" : "died")\
                <ul class="frames">\(stacks)</ul></td></tr>
                """
        }
        let more: HTML = errors.count > 20 ? "<p class=\"muted\">… \(errors.count - 20) more in --format json</p>" : .empty
        return """
            <section id="memory-errors"><header><h2>Memory errors</h2><span class="detail">caught by the guarded pool, newest \
            first, times UTC</span></header><table><thead><tr><th>time</th><th>kind</th><th>where</th></tr></thead>\
            <tbody>\(rows)</tbody></table>\(more)</section>
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
