import Foundation
import LeakCLI
import LeakWire
import Testing

@Suite("units, durations, names, addresses, JSON text")
struct FormattingTests {
    @Test func bytes() {
        #expect(Units.bytes(0) == "0 B")
        #expect(Units.bytes(812) == "812 B")
        #expect(Units.bytes(3482) == "3.4 KiB")
        #expect(Units.bytes(512 * 1_048_576) == "512.0 MiB")
        #expect(Units.bytes(-1536.0) == "-1.5 KiB")
        #expect(Units.rate(bytesPerHour: 20_971_520) == "+20.0 MiB/h")
        #expect(Units.rate(bytesPerHour: -2048) == "-2.0 KiB/h")
        #expect(Units.rate(bytesPerHour: 0.2) == "0 B/h")
        #expect(Units.count(1_234_567) == "1,234,567")
        #expect(Units.count(-1000) == "-1,000")
        #expect(Units.count(12) == "12")
    }

    @Test func times() {
        #expect(Units.rfc3339(unixNanos: 0) == "1970-01-01T00:00:00Z")
        #expect(Units.rfc3339(unixNanos: FleetScenario.now) == "2026-03-02T12:00:00Z")
        #expect(Units.rfc3339(unixNanos: 951_782_400 * 1_000_000_000) == "2000-02-29T00:00:00Z")
        #expect(Units.minuteTime(unixNanos: FleetScenario.now + 90 * 1_000_000_000) == "2026-03-02 12:01 UTC")
        #expect(Units.duration(seconds: 45) == "45s")
        #expect(Units.duration(seconds: 5 * 3600 + 20 * 60) == "5h 20m")
        #expect(Units.duration(seconds: 2 * 86_400 + 3 * 3600) == "2d 3h")
        #expect(Units.ago(unixNanos: FleetScenario.now - 3_600_000_000_000, now: FleetScenario.now) == "1h ago")
        #expect(Units.ago(unixNanos: FleetScenario.now + 180_000_000_000, now: FleetScenario.now) == "in 3m")
    }

    @Test("--since durations", arguments: [("30m", 1800), ("6h", 21_600), ("2d", 172_800), ("1w", 604_800), ("1h30m", 5400), ("90s", 90)])
    func since(text: String, seconds: Int64) throws {
        #expect(try SinceArgument(parsing: text).seconds == seconds)
    }

    @Test("--since rejects what is not a duration", arguments: ["", "6", "h", "6x", "-6h", "6h5", "100000d", "0h"])
    func badSince(text: String) {
        #expect(throws: CLIError.badArguments) { try SinceArgument(parsing: text) }
    }

    @Test func endpoints() throws {
        #expect(try CollectorEndpoint(parsing: "127.0.0.1:7070") == CollectorEndpoint(host: "127.0.0.1", port: 7070))
        #expect(try CollectorEndpoint(parsing: "collector.internal") == CollectorEndpoint(host: "collector.internal", port: 7070))
        #expect(try CollectorEndpoint(parsing: "[::1]:9000") == CollectorEndpoint(host: "::1", port: 9000))
        #expect(try CollectorEndpoint.resolve(option: nil, environment: [:]) == .fallback)
        #expect(try CollectorEndpoint.resolve(option: nil, environment: ["LEAKWATCH_COLLECTOR": "c:1"]) == CollectorEndpoint(host: "c", port: 1))
        #expect(try CollectorEndpoint.resolve(option: "d:2", environment: ["LEAKWATCH_COLLECTOR": "c:1"]) == CollectorEndpoint(host: "d", port: 2))
        for bad in ["", ":7070", "host:0", "host:70000", "host:abc", "::1:7070", "[::1", "a b:1"] {
            #expect(throws: CLIError.badArguments, "\(bad)") { try CollectorEndpoint(parsing: bad) }
        }
    }

    @Test func editDistance() {
        #expect(NameSuggestions.editDistance("web-3", "web-3") == 0)
        #expect(NameSuggestions.editDistance("web3", "web-3") == 1)
        #expect(NameSuggestions.editDistance("kitten", "sitting") == 3)
        #expect(NameSuggestions.editDistance("", "abc") == 3)
        #expect(NameSuggestions.editDistance("WEB-3", "web-3") == 0)
        let fleet = ["web-1", "web-2", "web-3", "db-1", "checkout-eu-west-17", "checkout-eu-west-71"]
        #expect(NameSuggestions.nearest(to: "web3", among: fleet) == ["web-3", "web-1", "web-2"])
        #expect(NameSuggestions.nearest(to: "checkout-eu-west-1", among: fleet) == ["checkout-eu-west-17", "checkout-eu-west-71"])
        #expect(NameSuggestions.nearest(to: "zzzzzz", among: fleet).isEmpty)
        #expect(NameSuggestions.unknownHostMessage("x", known: []).contains("no host has reported yet"))
    }

    @Test("JSON text: key order as built, escapes, decimals, null")
    func json() {
        let value = JSONValue.object([
            ("b", .string("quote \" backslash \\ newline \n tab \t bell \u{7}")),
            ("a", .array([.integer(-1), .unsigned(UInt64.max), .decimal(0.97, places: 3), .decimal(2.0, places: 3), .null])),
            ("empty", .object([])),
            ("none", .array([])),
            ("flag", .bool(true)),
        ])
        #expect(value.rendered() == """
            {
              "b": "quote \\" backslash \\\\ newline \\n tab \\t bell \\u0007",
              "a": [
                -1,
                18446744073709551615,
                0.97,
                2,
                null
              ],
              "empty": {},
              "none": [],
              "flag": true
            }

            """)
    }

    @Test("the chart fits 100 columns, marks restarts, leaves real gaps blank")
    func chart() {
        let hour: Int64 = 3_600_000_000_000
        var points: [MemoryChart.Point] = []
        for index in 0..<40 {
            let time = Int64(index) * hour / 4
            if (20..<26).contains(index) { continue }  // a reporting gap
            let instance: [UInt8] = index < 30 ? [1] : [2]
            points.append(MemoryChart.Point(timestampUnixNanos: time, heapBytes: Double(100 + index) * 1_048_576,
                                            rssBytes: Double(150 + index) * 1_048_576, instance: instance))
        }
        let lines = MemoryChart().render(points, style: TextStyle(enabled: false))
        for line in lines { #expect(line.count <= 100, "too wide: \(line)") }
        #expect(lines.contains { $0.contains("^") && !$0.contains("restart") })
        #expect(lines.last?.contains("^ process restart") == true)
        // The gap: some column between the 5h and 6h30 marks has no heap or RSS mark in any row.
        let plot = lines.prefix(10).map { Array($0) }
        let offset = 13
        let gapColumns = (0..<80).filter { column in
            plot.allSatisfy { row in offset + column >= row.count || row[offset + column] == " " }
        }
        #expect(!gapColumns.isEmpty)
        #expect(MemoryChart().render([], style: TextStyle(enabled: false)) == ["  (no points in the window)"])
    }
}
