import LeakWire

/// The report page's tables: allocation sizes, events, memory errors.
extension ReportRenderer {
    // MARK: Sizes

    func sizesHTML(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
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

    func eventsHTML(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
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

    func memoryErrorsHTML(_ report: Leakwatch_V1_HostReportResponse) -> HTML {
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
