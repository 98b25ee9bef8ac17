import LeakWire

/// An SVG chart of byte values over time: lines broken at process restarts and at reporting
/// gaps, restarts and threshold crossings marked, byte and UTC time axes. The full chart is
/// the report's heap and RSS; `compact` draws a site's small chart with no axes.
///
/// Time and value arithmetic is in Double, so any stored value (0, 2^63−1, the year 2262) is a
/// valid coordinate; `HTML`'s `px:` keeps whatever comes out finite.
struct TimeSeriesChart {
    struct Point {
        var timeUnixNanos: Int64
        var bytes: Double
        /// Changes at a process restart: the line breaks there.
        var instance: [UInt8]
    }

    struct Series {
        /// `heap`: the line's class, and its name in hover text.
        var name: String
        var points: [Point]
        var filled = false
    }

    enum MarkKind: String {
        case restart, warning, critical, cleared
    }

    /// A moment: a restart, or a threshold crossing at `bytes`.
    struct Mark {
        var timeUnixNanos: Int64
        var kind: MarkKind
        var bytes: Double?
        var label: String
    }

    /// A horizontal line: a threshold.
    struct Level {
        var bytes: Double
        var kind: MarkKind
        var label: String
    }

    var width: Double
    var height: Double
    var compact = false

    private var left: Double { compact ? 2 : 78 }
    private var right: Double { compact ? 2 : 20 }
    private var top: Double { compact ? 4 : 22 }
    private var bottom: Double { compact ? 4 : 26 }
    private var plotWidth: Double { width - left - right }
    private var plotHeight: Double { height - top - bottom }

    func svg(_ series: [Series], marks: [Mark] = [], levels: [Level] = [], label: String) -> HTML {
        let all = series.flatMap(\.points)
        guard let start = all.map(\.timeUnixNanos).min(), let end = all.map(\.timeUnixNanos).max() else {
            return "<p class=\"chart-note\">No points in the window.</p>"
        }
        let values = all.map(\.bytes).filter(\.isFinite)
        let dataLow = values.min() ?? 0, dataHigh = values.max() ?? 1
        // A threshold far off the data would flatten the line it is there to explain.
        let shownLevels = levels.filter { $0.bytes.isFinite && $0.bytes <= dataHigh * 1.5 && $0.bytes >= dataLow / 2 }
        let scale = ByteScale(low: min(dataLow, shownLevels.map(\.bytes).min() ?? dataLow),
                              high: max(dataHigh, shownLevels.map(\.bytes).max() ?? dataHigh))
        let startSeconds = Double(start) / 1e9, spanSeconds = max((Double(end) - Double(start)) / 1e9, 1)
        let x: (Int64) -> Double = { left + (Double($0) / 1e9 - startSeconds) / spanSeconds * plotWidth }
        let y: (Double) -> Double = { top + plotHeight - scale.fraction($0) * plotHeight }

        var body: [HTML] = []
        if !compact {
            body.append(valueAxis(scale, y: y))
            body.append(timeAxis(startSeconds: startSeconds, spanSeconds: spanSeconds))
            body.append(hoverColumns(series, x: x))
        }
        for level in shownLevels {
            let levelY = y(level.bytes)
            body.append("""
                <g class="level \(level.kind.rawValue)"><line x1="\(px: left)" x2="\(px: left + plotWidth)" y1="\(px: levelY)" \
                y2="\(px: levelY)"/><text x="\(px: left + 4)" y="\(px: levelY - 4)">\(level.label)</text></g>
                """)
        }
        for entry in series { body.append(lines(entry, x: x, y: y)) }
        for mark in marks where mark.timeUnixNanos >= start && mark.timeUnixNanos <= end {
            body.append(self.mark(mark, x: x(mark.timeUnixNanos), y: y))
        }
        return """
            <svg class="chart\(compact ? " spark" : "")" viewBox="0 0 \(px: width) \(px: height)" width="\(px: width)" \
            height="\(px: height)" role="img" aria-label="\(label)" xmlns="http://www.w3.org/2000/svg">\(body)</svg>
            """
    }

    // MARK: Lines

    /// One path per stretch of one process instance without a gap; points closer than a pixel
    /// are merged keeping the highest (a leak is about how high memory gets).
    private func lines(_ series: Series, x: (Int64) -> Double, y: (Double) -> Double) -> HTML {
        let points = series.points.filter(\.bytes.isFinite).sorted { $0.timeUnixNanos < $1.timeUnixNanos }
        guard !points.isEmpty else { return .empty }
        let steps = zip(points, points.dropFirst()).map { Double($1.timeUnixNanos) - Double($0.timeUnixNanos) }.sorted()
        let typicalStep = steps.isEmpty ? 0 : steps[steps.count / 2]

        var segments: [[(x: Double, bytes: Double)]] = []
        var previous: Point?
        for point in points {
            let pointX = x(point.timeUnixNanos)
            let breaks = previous.map {
                $0.instance != point.instance
                    || Double(point.timeUnixNanos) - Double($0.timeUnixNanos) > 3 * typicalStep
            } ?? true
            if breaks {
                segments.append([(pointX, point.bytes)])
            } else if let last = segments[segments.count - 1].last, pointX - last.x < 1 {
                segments[segments.count - 1][segments[segments.count - 1].count - 1].bytes = max(last.bytes, point.bytes)
            } else {
                segments[segments.count - 1].append((pointX, point.bytes))
            }
            previous = point
        }

        var out: [HTML] = []
        let baseline = top + plotHeight
        for segment in segments {
            guard let first = segment.first, let last = segment.last else { continue }
            if segment.count == 1 {
                out.append("<circle class=\"dot \(series.name)\" cx=\"\(px: first.x)\" cy=\"\(px: y(first.bytes))\" r=\"2\"/>")
                continue
            }
            var path = ""
            for (index, point) in segment.enumerated() {
                path += (index == 0 ? "M" : "L") + "\(HTML.coordinate(point.x)) \(HTML.coordinate(y(point.bytes)))"
            }
            if series.filled {
                out.append("""
                    <path class="area \(series.name)" d="\(path)L\(HTML.coordinate(last.x)) \(HTML.coordinate(baseline))\
                    L\(HTML.coordinate(first.x)) \(HTML.coordinate(baseline))Z"/>
                    """)
            }
            out.append("<path class=\"line \(series.name)\" d=\"\(path)\"/>")
        }
        return HTML.joined(out)
    }

    /// Thin columns under the lines, each with the values of its moment as hover text
    /// (`HTMLPage.script`), the line drawn last (on top) first: what was the heap at 08:10?
    private func hoverColumns(_ series: [Series], x: (Int64) -> Double) -> HTML {
        let columnWidth = 6.0
        let columns = max(1, Int(plotWidth / columnWidth))
        func column(_ point: Point) -> Int { min(columns - 1, max(0, Saturating.int((x(point.timeUnixNanos) - left) / columnWidth - 0.5))) }
        var moments: [Int: (time: Int64, values: [String: Double])] = [:]
        for entry in series {
            for point in entry.points where point.bytes.isFinite {
                let index = column(point)
                var moment = moments[index] ?? (point.timeUnixNanos, [:])
                moment.values[entry.name] = max(moment.values[entry.name] ?? 0, point.bytes)
                moments[index] = moment
            }
        }
        var out: [HTML] = ["<g class=\"hover\">"]
        for index in moments.keys.sorted() {
            guard let moment = moments[index] else { continue }
            let text = ([Units.minuteTime(unixNanos: moment.time)]
                + series.reversed().compactMap { entry in moment.values[entry.name].map { "\(entry.name) \(Units.bytes($0))" } })
                .joined(separator: "\n")
            out.append("""
                <g data-hover="moment"><title>\(text)</title><rect x="\(px: left + Double(index) * columnWidth)" y="\(px: top)" \
                width="\(px: columnWidth)" height="\(px: plotHeight)"/></g>
                """)
        }
        out.append("</g>")
        return HTML.joined(out)
    }

    private func mark(_ mark: Mark, x markX: Double, y: (Double) -> Double) -> HTML {
        let bottomY = top + plotHeight
        switch mark.kind {
        case .restart:
            let label: HTML = compact ? .empty : "<text x=\"\(px: markX + 3)\" y=\"\(px: top - 8)\">restart</text>"
            return """
                <g class="restart"><title>\(mark.label)</title><line x1="\(px: markX)" x2="\(px: markX)" y1="\(px: top - 4)" \
                y2="\(px: bottomY)"/>\(label)</g>
                """
        case .warning, .critical, .cleared:
            let markY = mark.bytes.map(y) ?? top
            let label: HTML = compact ? .empty : """
                <text class="\(mark.kind.rawValue)" x="\(px: markX + 8)" y="\(px: markY + 4)">\(mark.kind.rawValue)</text>
                """
            return """
                <g class="crossing \(mark.kind.rawValue)"><title>\(mark.label)</title><line x1="\(px: markX)" x2="\(px: markX)" \
                y1="\(px: top)" y2="\(px: bottomY)"/><path d="M\(HTML.coordinate(markX)) \(HTML.coordinate(markY - 5))\
                l5 5l-5 5l-5 -5Z"/>\(label)</g>
                """
        }
    }

    // MARK: Axes

    private func valueAxis(_ scale: ByteScale, y: (Double) -> Double) -> HTML {
        var out: [HTML] = ["<g class=\"grid\">"]
        for tick in scale.ticks {
            let tickY = y(tick)
            out.append("""
                <line x1="\(px: left)" x2="\(px: left + plotWidth)" y1="\(px: tickY)" y2="\(px: tickY)"/>\
                <text x="\(px: left - 8)" y="\(px: tickY + 4)" text-anchor="end">\(ByteScale.label(tick))</text>
                """)
        }
        out.append("</g>")
        return HTML.joined(out)
    }

    private func timeAxis(startSeconds: Double, spanSeconds: Double) -> HTML {
        let baseline = top + plotHeight
        var out: [HTML] = ["<g class=\"axis\"><path d=\"M\(HTML.coordinate(left)) \(HTML.coordinate(baseline))h\(HTML.coordinate(plotWidth))\"/>"]
        let ticks = TimeTicks(startSeconds: startSeconds, spanSeconds: spanSeconds, maximumCount: Int(plotWidth / 110))
        for tick in ticks.ticks {
            let tickX = left + (tick - startSeconds) / spanSeconds * plotWidth
            out.append("""
                <line x1="\(px: tickX)" x2="\(px: tickX)" y1="\(px: baseline)" y2="\(px: baseline + 4)"/>\
                <text x="\(px: tickX)" y="\(px: baseline + 17)" text-anchor="middle">\(ticks.label(tick))</text>
                """)
        }
        out.append("</g>")
        return HTML.joined(out)
    }
}

/// A value axis in bytes with ticks at round binary steps: 180 MiB, 200 MiB, 220 MiB.
struct ByteScale {
    private(set) var low: Double
    private(set) var high: Double
    private(set) var ticks: [Double] = []

    init(low dataLow: Double, high dataHigh: Double, targetTicks: Double = 4) {
        var low = dataLow, high = dataHigh
        // A flat line gets a scale of its own, relative to its height: at 2^63 a Double's step is
        // 2048 (issue 15's trap in the text chart).
        if !(high - low >= max(1, abs(high) * 1e-9)) {
            let flatSpan = max(1024, abs(high) * 1e-6)
            low = max(0, low - flatSpan / 2)
            high = low + flatSpan
        }
        let raw = (high - low) / targetTicks
        var unit = 1.0
        while raw / unit >= 1024 && unit < 1.2e18 { unit *= 1024 }
        let step = ([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as [Double]).map { $0 * unit }.first { $0 >= raw } ?? raw
        let niceLow = (low / step).rounded(.down) * step, niceHigh = (high / step).rounded(.up) * step
        guard step > 0, step.isFinite, niceLow.isFinite, niceHigh.isFinite, (niceHigh - niceLow) / step <= 12 else {
            self.low = low
            self.high = high
            ticks = [low, high]
            return
        }
        self.low = dataLow >= 0 ? max(0, niceLow) : niceLow
        self.high = niceHigh
        var tick = self.low
        while tick <= niceHigh + step / 2 && ticks.count < 13 {
            ticks.append(tick)
            tick += step
        }
    }

    /// Where `value` sits between low (0) and high (1).
    func fraction(_ value: Double) -> Double {
        let span = high - low
        guard span > 0, span.isFinite else { return 0.5 }
        return min(1, max(0, (value - low) / span))
    }

    /// `200 MiB`, `1.5 GiB`: Units.bytes without a trailing `.0`.
    static func label(_ value: Double) -> String {
        let text = Units.bytes(value)
        guard let dot = text.range(of: ".0 ") else { return text }
        return text.replacingCharacters(in: dot, with: " ")
    }
}

/// Time axis ticks at round UTC steps (a minute to a century), at most `maximumCount`.
struct TimeTicks {
    private static let stepsSeconds: [Double] = [
        60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800, 2_592_000, 31_536_000,
        315_360_000, 3_153_600_000,
    ]
    private(set) var ticks: [Double] = []
    private let stepSeconds: Double

    init(startSeconds: Double, spanSeconds: Double, maximumCount: Int) {
        let count = Double(max(2, maximumCount))
        stepSeconds = Self.stepsSeconds.first { spanSeconds / $0 <= count } ?? spanSeconds
        var tick = (startSeconds / stepSeconds).rounded(.up) * stepSeconds
        while tick <= startSeconds + spanSeconds && ticks.count < Int(count) + 1 {
            ticks.append(tick)
            tick += stepSeconds
        }
    }

    /// `06:00` within a day, `03-02 06:00` across days, `2026-03-02` at a step of a day or more.
    func label(_ seconds: Double) -> String {
        let nanos = Saturating.int64(seconds * 1e9)
        if stepSeconds >= 86_400 { return String(Units.rfc3339(unixNanos: nanos).prefix(10)) }
        if ticks.count >= 2, let first = ticks.first, let last = ticks.last, last - first >= 86_400 {
            return String(Units.shortTime(unixNanos: nanos).prefix(11))
        }
        return Units.clockTime(unixNanos: nanos)
    }
}
