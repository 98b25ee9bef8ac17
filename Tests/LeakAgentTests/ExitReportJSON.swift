import Foundation
import Testing

/// The exit report as the tests read it: parsed with JSONSerialization, so the tests check the
/// bytes on disk rather than trusting the agent's own types.
struct ExitReportJSON {
    struct Frame {
        var keys: Set<String>
        var function: String
        var file: String?
        var line: Int?
        var image: String
        var buildID: String?
    }

    struct Site {
        var keys: Set<String>
        var liveBytes: UInt64
        var liveObjects: UInt64
        var allocatedBytes: UInt64
        var typeName: String?
        var frames: [Frame]

        func hasFrame(_ function: String) -> Bool { frames.contains { $0.function == function } }
    }

    var statsKeys: Set<String>
    var stats: [String: UInt64]
    var sites: [Site]
    /// Present when the agent shipped to a collector.
    var shipping: [String: Any]?
    /// Where the frames were named: leakwatch-symbolizer's path, or "unsymbolized: " and why.
    var symbolizer: String

    init(data: Data) throws {
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "the report is not a JSON object")
        #expect(Set(root.keys) == ["stats", "sites", "symbolizer"] || Set(root.keys) == ["stats", "sites", "shipping", "symbolizer"])
        shipping = root["shipping"] as? [String: Any]
        symbolizer = try #require(root["symbolizer"] as? String, "\"symbolizer\" is not a string")
        let stats = try #require(root["stats"] as? [String: Any], "\"stats\" is not an object")
        statsKeys = Set(stats.keys)
        self.stats = try stats.mapValues { try Self.unsigned($0) }
        let sites = try #require(root["sites"] as? [[String: Any]], "\"sites\" is not an array of objects")
        self.sites = try sites.map { site in
            let frames = try #require(site["frames"] as? [[String: Any]], "a site's \"frames\" is not an array")
            return Site(
                keys: Set(site.keys),
                liveBytes: try Self.unsigned(site["liveBytes"] as Any),
                liveObjects: try Self.unsigned(site["liveObjects"] as Any),
                allocatedBytes: try Self.unsigned(site["allocatedBytes"] as Any),
                typeName: site["typeName"] as? String,
                frames: try frames.map { frame in
                    Frame(keys: Set(frame.keys),
                          function: try #require(frame["function"] as? String, "a frame has no function"),
                          file: frame["file"] as? String,
                          line: frame["line"] as? Int,
                          image: try #require(frame["image"] as? String, "a frame has no image"),
                          buildID: frame["buildId"] as? String)
                })
        }
    }

    init(contentsOf url: URL) throws {
        try self.init(data: try Data(contentsOf: url))
    }

    static func unsigned(_ value: Any) throws -> UInt64 {
        let number = try #require(value as? NSNumber, "expected a number, found \(value)")
        return number.uint64Value
    }

    /// The site whose stack contains `function` (the fixtures' leaking functions are distinct).
    func site(withFrame function: String) -> Site? {
        sites.first { $0.hasFrame(function) }
    }
}
