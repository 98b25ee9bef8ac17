import LeakWire

/// The report page's growing sites: each with its rate, status, bytes, stack and own chart.
extension ReportRenderer {
    func sitesHTML(_ report: Leakwatch_V1_HostReportResponse, extras: PageExtras) -> HTML {
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
            : TimeSeriesChart(width: 320, height: 72, compact: true).svg([TimeSeriesChart.Series(name: "heap", points: points, filled: true)],
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
        let (function, location) = SiteRendering.frameParts(frame)
        let place: HTML = location.isEmpty ? .empty
            : " <span class=\"location\" title=\"\(frame.file.isEmpty ? frame.image : frame.file)\">(\(Units.fit(location, width: longestName)))</span>"
        let name: HTML = function.count > longestName
            ? "<span title=\"\(function)\">\(Units.fit(function, width: longestName))</span>" : "\(function)"
        return "\(name)\(place)\(frame.inlined ? " <span class=\"inlined\">inlined</span>" as HTML : .empty)"
    }
}
