import Foundation
@testable import LeakCLI
import LeakWire
import Testing

/// The pieces every HTML page is drawn with, on the values the store can hold.
@Suite("HTML rendering pieces")
struct HTMLRenderingTests {
    @Test("interpolated strings are escaped, literals and HTML values are not")
    func escaping() {
        let name = "a<b>&\"c\"'d'"
        let fragment: HTML = "<td title=\"\(name)\">\(name)</td>\(HTML.empty)<br/>"
        #expect(fragment.markup == "<td title=\"a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;\">a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;</td><br/>")
        let inner: HTML = "<b>\(name)</b>"
        let outer: HTML = "<p>\(inner)</p>"
        #expect(outer.markup == "<p><b>a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;</b></p>", "an HTML value goes in once escaped, not twice")
    }

    @Test("characters no document may hold become U+FFFD; tabs, newlines and the rest of Unicode stay")
    func forbiddenCharacters() {
        #expect(HTML.escape("a\u{0}b\u{1B}c\u{7F}d\u{85}e\u{FFFE}f\u{FFFF}") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}f\u{FFFD}")
        #expect(HTML.escape("tab\tline\nreturn\r ≤ ∞ 漢字 🙂") == "tab\tline\nreturn\r ≤ ∞ 漢字 🙂")
    }

    @Test("coordinates: one decimal, finite, within ±10^7")
    func coordinates() {
        #expect(HTML.coordinate(12) == "12")
        #expect(HTML.coordinate(12.34) == "12.3")
        #expect(HTML.coordinate(-0.04) == "0")
        #expect(HTML.coordinate(.nan) == "0")
        #expect(HTML.coordinate(.infinity) == "0")
        #expect(HTML.coordinate(1e300) == "10000000")
        #expect(HTML.coordinate(-1e300) == "-10000000")
        #expect(HTML.coordinate(Double(UInt64.max)) == "10000000")
    }

    @Test("byte axes tick at round binary steps and stay bounded on any data")
    func byteScale() {
        let mib = 1048576.0
        let scale = ByteScale(low: 180 * mib, high: 240.3 * mib)
        #expect(scale.ticks.map { ByteScale.label($0) } == ["180 MiB", "200 MiB", "220 MiB", "240 MiB", "260 MiB"])
        #expect(scale.fraction(180 * mib) == 0 && scale.fraction(260 * mib) == 1)
        for (low, high) in [(0.0, 0.0), (Double(Int64.max), Double(Int64.max)), (0, Double(UInt64.max)), (1, 1.0000001),
                            (Double(UInt64.max), Double(UInt64.max))] {
            let scale = ByteScale(low: low, high: high)
            #expect(!scale.ticks.isEmpty && scale.ticks.count <= 13, "\(low)...\(high): \(scale.ticks)")
            #expect(scale.ticks.allSatisfy { $0.isFinite })
            #expect((0...1).contains(scale.fraction(low)) && (0...1).contains(scale.fraction(high)))
        }
    }

    @Test("time axes tick at round UTC steps, at most the count asked, over any span")
    func timeTicks() {
        // 2026-03-02 06:00 to 11:55 UTC.
        let start = 1_772_431_200.0
        let ticks = TimeTicks(startSeconds: start, spanSeconds: 5 * 3600 + 55 * 60, maximumCount: 10)
        #expect(ticks.ticks.map(ticks.label) == ["06:00", "07:00", "08:00", "09:00", "10:00", "11:00"])
        let days = TimeTicks(startSeconds: start, spanSeconds: 3 * 86_400, maximumCount: 10)
        #expect(days.ticks.map(days.label).prefix(3) == ["03-02 12:00", "03-03 00:00", "03-03 12:00"])
        let weeks = TimeTicks(startSeconds: start, spanSeconds: 30 * 86_400, maximumCount: 10)
        #expect(weeks.ticks.map(weeks.label).prefix(2) == ["2026-03-05", "2026-03-12"])
        for (from, span) in [(Double(Int64.min) / 1e9, Double(UInt64.max) / 1e9), (0, 1), (9.2e9, 1e-3)] {
            let ticks = TimeTicks(startSeconds: from, spanSeconds: span, maximumCount: 10)
            #expect(ticks.ticks.count <= 11, "\(from)+\(span): \(ticks.ticks.count) ticks")
            _ = ticks.ticks.map(ticks.label)
        }
    }

    @Test("the icicle sums sites by shared frames, outermost first, and folds deep stacks")
    func icicle() {
        func frame(_ function: String) -> Leakwatch_V1_Frame {
            var frame = Leakwatch_V1_Frame()
            frame.function = function
            frame.file = "/src/\(function).swift"
            frame.line = 1
            return frame
        }
        func site(_ id: UInt64, bytes: UInt64, rate: Double, _ frames: [String]) -> Leakwatch_V1_SiteReport {
            var site = Leakwatch_V1_SiteReport()
            site.stackID = id
            site.liveBytes = bytes
            site.rateBytesPerHour = rate
            site.frames = frames.map(frame)
            return site
        }
        let icicle = StackIcicle(sites: [
            site(1, bytes: 300, rate: 100, ["alloc", "cache", "main"]),
            site(2, bytes: 100, rate: -5, ["alloc", "parse", "main"]),
            site(3, bytes: UInt64.max, rate: .nan, (0..<300).map { "f\($0)" }),
        ], host: "h")
        let main = icicle.nodes[icicle.nodes[0].children[0]]
        #expect(main.function == "main" && main.bytes == 400 && main.rateBytesPerHour == 95 && main.growthBytesPerHour == 100)
        #expect(main.children.map { icicle.nodes[$0].function } == ["cache", "parse"])
        func depth(_ index: Int) -> Int { 1 + (icicle.nodes[index].children.map(depth).max() ?? 0) }
        #expect(depth(0) == StackIcicle.maximumDepth + 1, "root plus the folded stack's rows")
        #expect(icicle.nodes.contains { $0.function == "… \(300 - StackIcicle.maximumDepth + 1) more frames" })
        let svg = icicle.svg(width: 1000).markup
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(StackIcicle.colour(share: 0).fill == "#dde2e8" && StackIcicle.colour(share: .nan).fill == "#dde2e8")
        #expect(StackIcicle.colour(share: 1) == ("#b42318", true))
    }
}
