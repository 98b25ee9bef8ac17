import LeakWire

/// A flame graph drawn top down (an icicle) of a host's live heap: the root is every sampled
/// site, each row below a frame further in, outermost caller first, down to the frame that
/// allocated. A frame's width is the live bytes allocated under it; its colour is its share of
/// the host's growth (grey: none of it, deep red: all of it); hovering shows the frame, its
/// file:line, bytes and rate.
struct StackIcicle {
    struct Node {
        var function: String
        var location: String
        var image: String
        var inlined: Bool
        /// Live bytes under this frame, as Double: sums of stored values may pass UInt64.
        var bytes: Double = 0
        var rateBytesPerHour: Double = 0
        /// The growth under this frame, shrinking sites left out: what the colour shows.
        var growthBytesPerHour: Double = 0
        var siteCount = 0
        var children: [Int] = []
        var childIndex: [String: Int] = [:]
    }

    private(set) var nodes: [Node]
    /// Deeper frames fold into one "… more frames" row, so a 256-frame recursion stays a page.
    static let maximumDepth = 48

    init(sites: [Leakwatch_V1_SiteReport], host: String) {
        nodes = [Node(function: "all sampled sites of \(host)", location: "", image: "", inlined: false)]
        for site in sites {
            let bytes = Double(site.liveBytes)
            let rate = site.rateBytesPerHour.isFinite ? site.rateBytesPerHour : 0
            var path: [(key: String, node: Node)] = site.frames.reversed().map { frame in
                let location = frame.file.isEmpty ? "" : (frame.line > 0 ? "\(frame.file):\(frame.line)" : frame.file)
                let function = frame.function.isEmpty ? (frame.address == 0 ? "???" : "0x" + String(frame.address, radix: 16)) : frame.function
                let key = function + "\u{0}" + location + (frame.inlined ? "\u{0}i" : "")
                return (key, Node(function: function, location: location, image: frame.image, inlined: frame.inlined))
            }
            if path.isEmpty {
                path = [("\u{0}unsymbolized", Node(function: "(stack \(site.stackID) not symbolized)", location: "", image: "", inlined: false))]
            }
            if path.count > Self.maximumDepth {
                let folded = path.count - Self.maximumDepth + 1
                path = Array(path.prefix(Self.maximumDepth - 1))
                    + [("\u{0}folded", Node(function: "… \(folded) more frames", location: "", image: "", inlined: false))]
            }
            add(site: bytes, rate: rate, to: 0)
            var parent = 0
            for (key, node) in path {
                let child: Int
                if let existing = nodes[parent].childIndex[key] {
                    child = existing
                } else {
                    child = nodes.count
                    nodes.append(node)
                    nodes[parent].childIndex[key] = child
                    nodes[parent].children.append(child)
                }
                add(site: bytes, rate: rate, to: child)
                parent = child
            }
        }
    }

    private mutating func add(site bytes: Double, rate: Double, to index: Int) {
        nodes[index].bytes += bytes
        nodes[index].rateBytesPerHour += rate
        nodes[index].growthBytesPerHour += max(0, rate)
        nodes[index].siteCount += 1
    }

    // MARK: SVG

    static let rowHeight = 18.0
    /// Frames narrower than this are left out (their bytes stay in their parent's width).
    static let minimumWidth = 1.0

    func svg(width: Double) -> HTML {
        let root = nodes[0]
        guard root.bytes > 0, root.bytes.isFinite else {
            return "<p class=\"chart-note\">No sampled site holds live bytes.</p>"
        }
        var rows = 0
        var out: [HTML] = []
        draw(0, x: 0, width: width, level: 0, rows: &rows, into: &out)
        let height = Double(rows) * Self.rowHeight
        return """
            <svg class="icicle" viewBox="0 0 \(px: width) \(px: height)" width="\(px: width)" height="\(px: height)" role="img" \
            aria-label="live bytes by stack" xmlns="http://www.w3.org/2000/svg">\(out)</svg>
            """
    }

    private func draw(_ index: Int, x: Double, width: Double, level: Int, rows: inout Int, into out: inout [HTML]) {
        let node = nodes[index]
        rows = max(rows, level + 1)
        let y = Double(level) * Self.rowHeight
        let colour = Self.colour(share: nodes[0].growthBytesPerHour > 0 ? node.growthBytesPerHour / nodes[0].growthBytesPerHour : 0)
        var label: HTML = .empty
        let characters = Int((width - 8) / 6.4)
        if characters >= 3 {
            let name = Units.fit(Self.shortName(node.function), width: characters)
            label = "<text x=\"\(px: x + 4)\" y=\"\(px: y + 12.5)\"\(colour.lightText ? " class=\"light\"" as HTML : .empty)>\(name)</text>"
        }
        out.append("""
            <g data-hover="frame"><title>\(tooltip(node))</title><rect x="\(px: x)" y="\(px: y)" width="\(px: width)" \
            height="\(px: Self.rowHeight - 1)" fill="\(colour.fill)"/>\(label)</g>
            """)
        let children = node.children.sorted { nodes[$0].bytes != nodes[$1].bytes ? nodes[$0].bytes > nodes[$1].bytes : $0 < $1 }
        var childX = x
        for child in children {
            let childWidth = node.bytes > 0 ? nodes[child].bytes / node.bytes * width : 0
            if childWidth >= Self.minimumWidth {
                draw(child, x: childX, width: childWidth, level: level + 1, rows: &rows, into: &out)
            }
            childX += childWidth
        }
    }

    private func tooltip(_ node: Node) -> String {
        var lines = [node.function + (node.inlined ? " [inlined]" : "")]
        if !node.location.isEmpty { lines.append(node.location) } else if !node.image.isEmpty { lines.append(node.image) }
        let total = nodes[0].bytes
        let share = total > 0 ? node.bytes / total * 100 : 0
        lines.append("live " + Units.bytes(node.bytes) + " (" + String(format: "%.1f", share) + "% of sampled)"
                     + ", " + Units.count(node.siteCount) + " site" + (node.siteCount == 1 ? "" : "s"))
        lines.append("rate " + Units.rate(bytesPerHour: node.rateBytesPerHour))
        return lines.joined(separator: "\n")
    }

    /// `SessionCache.insert(_:)` for `Checkout.SessionCache.insert(_:)`: the module is in the tooltip.
    static func shortName(_ function: String) -> String {
        guard !function.hasPrefix("("), !function.hasPrefix("…") else { return function }
        let head = function.prefix { $0 != "(" && $0 != "<" }
        let parts = head.split(separator: ".")
        guard parts.count > 2 else { return function }
        return String(function.dropFirst(parts[0].count + 1))
    }

    /// Grey for no growth, then sand through orange to deep red as the frame's share of the
    /// host's growth rises.
    static func colour(share: Double) -> (fill: String, lightText: Bool) {
        guard share.isFinite, share > 0.005 else { return ("#dde2e8", false) }
        let t = min(1, share).squareRoot()
        let stops: [(Double, (Double, Double, Double))] = [
            (0, (0xF3, 0xDD, 0xB3)), (0.5, (0xE8, 0x8A, 0x4A)), (1, (0xB4, 0x23, 0x18)),
        ]
        var rgb = stops[stops.count - 1].1
        for (a, b) in zip(stops, stops.dropFirst()) where t <= b.0 {
            let f = (t - a.0) / (b.0 - a.0)
            rgb = (a.1.0 + (b.1.0 - a.1.0) * f, a.1.1 + (b.1.1 - a.1.1) * f, a.1.2 + (b.1.2 - a.1.2) * f)
            break
        }
        func hex(_ value: Double) -> String {
            let byte = Int(min(255, max(0, value.rounded())))
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }
        return ("#" + hex(rgb.0) + hex(rgb.1) + hex(rgb.2), t > 0.72)
    }
}
