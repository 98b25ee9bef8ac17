import Foundation

/// A host's recorded memory series, read from CSV for `collector-cli simulate`.
///
/// Host file, header exactly `t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid`: one row
/// per snapshot, `t_seconds` increasing (an offset from the replay's start time), a change of
/// `pid` is a process restart, rows may be missing during gaps. Site file, header
/// `t_seconds,site_id,live_bytes`: the live bytes of each site at that time; each `site_id`
/// becomes a one-frame stack. Files may be gzipped (detected by content, not by name).
public struct ReplaySeries: Sendable {
    public struct Row: Sendable, Equatable {
        public var tSeconds: Double
        public var heapBytes: UInt64
        public var rssBytes: UInt64
        public var allocationCount: UInt64
        public var freeCount: UInt64
        public var pid: UInt32
        /// Process uptime at this row, when known (CSV files do not give it). Read on an
        /// instance's first row only: a process first seen while already running started this
        /// long before it. Without it the instance starts at its first row.
        public var uptimeSeconds: Double?

        public init(
            tSeconds: Double, heapBytes: UInt64, rssBytes: UInt64, allocationCount: UInt64, freeCount: UInt64, pid: UInt32,
            uptimeSeconds: Double? = nil
        ) {
            self.tSeconds = tSeconds
            self.heapBytes = heapBytes
            self.rssBytes = rssBytes
            self.allocationCount = allocationCount
            self.freeCount = freeCount
            self.pid = pid
            self.uptimeSeconds = uptimeSeconds
        }
    }

    public struct SiteSample: Sendable, Equatable {
        public var siteID: String
        public var liveBytes: UInt64

        public init(siteID: String, liveBytes: UInt64) {
            self.siteID = siteID
            self.liveBytes = liveBytes
        }
    }

    public var host: String
    public var rows: [Row]
    /// Site samples by `t_seconds`, to join onto host rows with the same time.
    public var sites: [Double: [SiteSample]] = [:]

    public static let hostHeader = "t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid"
    public static let siteHeader = "t_seconds,site_id,live_bytes"

    /// The host name a file stands for: its name without `.csv` / `.csv.gz`.
    public static func hostName(forPath path: String) -> String {
        var name = URL(fileURLWithPath: path).lastPathComponent
        for suffix in [".gz", ".csv"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }

    /// The stack id each `site_id` of these series is sent as: 1, 2, ... in `site_id` order, the
    /// same for every host, as one program's stacks are.
    public static func stackIDs(_ series: [ReplaySeries]) -> [String: UInt64] {
        var stackIDs: [String: UInt64] = [:]
        for siteID in Set(series.flatMap { $0.sites.values.flatMap { $0.map(\.siteID) } }).sorted() {
            stackIDs[siteID] = UInt64(stackIDs.count + 1)
        }
        return stackIDs
    }

    public init(host: String, rows: [Row]) {
        self.host = host
        self.rows = rows
    }

    /// Reads a host file.
    public init(path: String, host: String? = nil) throws {
        let lines = try Self.lines(path: path, header: Self.hostHeader)
        var rows: [Row] = []
        rows.reserveCapacity(lines.count)
        for (number, fields) in lines {
            func field<T: LosslessStringConvertible>(_ index: Int, _ name: String) throws -> T {
                guard let value = T(fields[index].trimmingCharacters(in: .whitespaces)) else {
                    throw CLIError.badArguments.with("\(path):\(number): \(name) '\(fields[index])' is not a valid number")
                }
                return value
            }
            guard fields.count == 6 else {
                throw CLIError.badArguments.with("\(path):\(number): expected 6 fields (\(Self.hostHeader)), found \(fields.count)")
            }
            let row = Row(tSeconds: try field(0, "t_seconds"), heapBytes: try field(1, "heap_bytes"),
                          rssBytes: try field(2, "rss_bytes"), allocationCount: try field(3, "alloc_count"),
                          freeCount: try field(4, "free_count"), pid: try field(5, "pid"))
            guard row.tSeconds.isFinite, row.tSeconds >= 0 else {
                throw CLIError.badArguments.with("\(path):\(number): t_seconds must be 0 or more")
            }
            if let previous = rows.last, row.tSeconds <= previous.tSeconds {
                throw CLIError.badArguments.with(
                    "\(path):\(number): t_seconds \(row.tSeconds) does not increase (previous row: \(previous.tSeconds))")
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw CLIError.badArguments.with("\(path): no rows after the header") }
        self.init(host: host ?? Self.hostName(forPath: path), rows: rows)
    }

    /// Joins a site file onto this series.
    public mutating func addSites(path: String) throws {
        for (number, fields) in try Self.lines(path: path, header: Self.siteHeader) {
            guard fields.count == 3 else {
                throw CLIError.badArguments.with("\(path):\(number): expected 3 fields (\(Self.siteHeader)), found \(fields.count)")
            }
            guard let t = Double(fields[0].trimmingCharacters(in: .whitespaces)), t.isFinite, t >= 0 else {
                throw CLIError.badArguments.with("\(path):\(number): t_seconds '\(fields[0])' is not a number of seconds")
            }
            let siteID = fields[1].trimmingCharacters(in: .whitespaces)
            guard !siteID.isEmpty else { throw CLIError.badArguments.with("\(path):\(number): empty site_id") }
            guard let live = UInt64(fields[2].trimmingCharacters(in: .whitespaces)) else {
                throw CLIError.badArguments.with("\(path):\(number): live_bytes '\(fields[2])' is not a valid number")
            }
            sites[t, default: []].append(SiteSample(siteID: siteID, liveBytes: live))
        }
    }

    /// Numbered data lines (1-based line numbers) split on commas, after checking the header.
    static func lines(path: String, header: String) throws -> [(Int, [String])] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.badArguments.with("cannot read \(path): give a CSV file (plain or gzipped) with the header \(header)")
        }
        var bytes = [UInt8](data)
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
            do {
                bytes = try Gzip.decompress(bytes)
            } catch {
                throw CLIError.badArguments.with("\(path): looks gzipped but does not inflate: \(error)")
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var result: [(Int, [String])] = []
        var sawHeader = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if !sawHeader {
                guard line.replacingOccurrences(of: " ", with: "") == header else {
                    throw CLIError.badArguments.with("\(path):\(index + 1): the header must be '\(header)', found '\(line)'")
                }
                sawHeader = true
                continue
            }
            result.append((index + 1, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
        guard sawHeader else { throw CLIError.badArguments.with("\(path): empty file; expected the header \(header)") }
        return result
    }
}
