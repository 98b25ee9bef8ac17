import LeakWire

/// A terminal chart of heap in use and RSS over time, with process restarts marked.
///
/// ```
///   701.2 MiB ┤                                   ·······
///             │                         **********
///   350.6 MiB ┤          ***************
///             │ *********
///    12.0 MiB ┼───────────────────────────────────────────
///               ^ restart
///               08:00              11:00              14:00
/// ```
/// Each column is a slice of time; a column's mark is the largest value in its slice (a leak
/// is about how high memory gets). Columns without data stay blank: gaps show as gaps.
public struct MemoryChart: Sendable {
    public struct Point: Sendable {
        public var timestampUnixNanos: Int64
        public var heapBytes: Double
        public var rssBytes: Double
        /// Changes at a process restart.
        public var instance: [UInt8]

        public init(timestampUnixNanos: Int64, heapBytes: Double, rssBytes: Double, instance: [UInt8]) {
            self.timestampUnixNanos = timestampUnixNanos
            self.heapBytes = heapBytes
            self.rssBytes = rssBytes
            self.instance = instance
        }
    }

    public var plotColumns: Int
    public var plotRows: Int
    static let labelWidth = 11

    public init(plotColumns: Int = 80, plotRows: Int = 10) {
        self.plotColumns = plotColumns
        self.plotRows = plotRows
    }

    /// The chart's lines (without trailing newlines), each at most labelWidth + 2 + plotColumns wide.
    public func render(_ input: [Point], style: TextStyle) -> [String] {
        let points = input.sorted { $0.timestampUnixNanos < $1.timestampUnixNanos }
        guard let first = points.first, let last = points.last else { return ["  (no points in the window)"] }
        let start = first.timestampUnixNanos, end = max(last.timestampUnixNanos, start)
        let columns = plotColumns, rows = plotRows
        // Time arithmetic in Double: any two stored times are a valid span, none overflows.
        let span = max(Double(end) - Double(start), 1)

        func column(_ time: Int64) -> Int {
            min(columns - 1, max(0, Saturating.int((Double(time) - Double(start)) / span * Double(columns - 1))))
        }
        var heap = [Double?](repeating: nil, count: columns)
        var rss = [Double?](repeating: nil, count: columns)
        var restart = [Bool](repeating: false, count: columns)
        var previousInstance: [UInt8]?
        for point in points {
            let c = column(point.timestampUnixNanos)
            heap[c] = max(heap[c] ?? 0, point.heapBytes)
            if point.rssBytes > 0 { rss[c] = max(rss[c] ?? 0, point.rssBytes) }
            if let previousInstance, previousInstance != point.instance { restart[c] = true }
            previousInstance = point.instance
        }

        fillBetweenPoints(points, heap: &heap, rss: &rss, column: column)

        let values = (heap + rss).compactMap { $0 }.filter(\.isFinite)
        var low = values.min() ?? 0, high = values.max() ?? 1
        // A flat line gets a scale of its own. Relative to its height too: at 2^63 bytes a
        // Double's step is 2048, so "low - 512" was low again and the span 0 (issue 15's trap).
        if high - low < max(1, high * 1e-9) {
            let flatSpan = max(1024, high * 1e-6)
            low = max(0, low - flatSpan / 2)
            high = low + flatSpan
        }
        func row(_ value: Double) -> Int {
            min(rows - 1, max(0, Saturating.int((value - low) / (high - low) * Double(rows - 1))))
        }

        var grid = [[Character]](repeating: [Character](repeating: " ", count: columns), count: rows)
        for c in 0..<columns {
            if restart[c] {
                for r in 0..<rows { grid[r][c] = "┊" }
            }
            if let value = rss[c] { grid[rows - 1 - row(value)][c] = "·" }
            if let value = heap[c] { grid[rows - 1 - row(value)][c] = "*" }
        }

        var lines: [String] = []
        let labelled: Set<Int> = [0, rows / 2, rows - 1]
        for r in 0..<rows {
            let value = high - (high - low) * Double(r) / Double(rows - 1)
            let label = labelled.contains(r) ? Units.padLeft(Units.bytes(value), Self.labelWidth) : String(repeating: " ", count: Self.labelWidth)
            let axis = r == rows - 1 ? "┼" : (labelled.contains(r) ? "┤" : "│")
            var body = ""
            for character in grid[r] {
                switch character {
                case "*": body += style.yellow("*")
                case "·": body += style.cyan("·")
                case "┊": body += style.dim("┊")
                default: body.append(character)
                }
            }
            lines.append(trimTrailing(label + " " + axis + body))
        }
        if restart.contains(true) {
            var markers = [Character](repeating: " ", count: columns)
            for c in 0..<columns where restart[c] { markers[c] = "^" }
            lines.append(trimTrailing(String(repeating: " ", count: Self.labelWidth + 2) + String(markers)))
        }
        lines.append(String(repeating: " ", count: Self.labelWidth + 2) + timeAxis(start: start, end: end, columns: columns))
        var legend = String(repeating: " ", count: Self.labelWidth + 2) + style.yellow("*") + " heap in use   " + style.cyan("·") + " RSS"
        if restart.contains(true) { legend += "   ^ process restart" }
        lines.append(legend)
        return lines
    }

    /// Columns that fall between two points of one process instance, closer than three
    /// typical intervals, get the interpolated value: the line is continuous where the data
    /// is, and real reporting gaps and restarts still show as gaps.
    private func fillBetweenPoints(_ points: [Point], heap: inout [Double?], rss: inout [Double?], column: (Int64) -> Int) {
        guard points.count >= 2 else { return }
        func step(_ a: Point, _ b: Point) -> Double { Double(b.timestampUnixNanos) - Double(a.timestampUnixNanos) }
        let steps = zip(points, points.dropFirst()).map(step).sorted()
        let typicalStep = steps[steps.count / 2]
        for (a, b) in zip(points, points.dropFirst()) where a.instance == b.instance {
            guard step(a, b) <= 3 * typicalStep else { continue }
            let ca = column(a.timestampUnixNanos), cb = column(b.timestampUnixNanos)
            guard cb - ca > 1 else { continue }
            for c in (ca + 1)..<cb where heap[c] == nil {
                let fraction = Double(c - ca) / Double(cb - ca)
                heap[c] = a.heapBytes + (b.heapBytes - a.heapBytes) * fraction
                if a.rssBytes > 0 && b.rssBytes > 0 { rss[c] = a.rssBytes + (b.rssBytes - a.rssBytes) * fraction }
            }
        }
    }

    private func timeAxis(start: Int64, end: Int64, columns: Int) -> String {
        let longWindow = Double(end) - Double(start) > 86_400e9
        func label(_ time: Int64) -> String {
            longWindow ? String(Units.shortTime(unixNanos: time).prefix(11)) : Units.clockTime(unixNanos: time)
        }
        var axis = [Character](repeating: " ", count: columns)
        func place(_ text: String, at position: Int) {
            let characters = Array(text)
            let begin = max(0, min(columns - characters.count, position))
            for (offset, character) in characters.enumerated() { axis[begin + offset] = character }
        }
        let left = label(start), right = label(end), middle = label(start / 2 + end / 2)
        place(left, at: 0)
        place(middle, at: columns / 2 - middle.count / 2)
        place(right, at: columns - right.count)
        return trimTrailing(String(axis))
    }

    private func trimTrailing(_ text: String) -> String {
        var text = text
        while text.last == " " { text.removeLast() }
        return text
    }
}
