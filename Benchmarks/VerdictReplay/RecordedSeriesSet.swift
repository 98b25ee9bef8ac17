import Foundation
import LeakCLI

/// A directory of recorded series in the `collector-cli simulate` format, with their labels:
///
///     DIR/labels.csv          host,label,kind,leak_start_seconds,leaking_sites
///     DIR/<host>.csv[.gz]     t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid
///     DIR/<host>.sites.csv[.gz]  t_seconds,site_id,live_bytes   (optional)
///
/// `label` is `leak` or `ok`; `leak_start_seconds` is in the host file's `t_seconds` (empty for
/// ok, 0 for a leak from the start); `leaking_sites` lists `site_id`s separated by `;` or `|` (empty:
/// none named).
public enum RecordedSeriesSet {
    public static let labelsHeader = "host,label,kind,leak_start_seconds,leaking_sites"

    public struct FormatError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func load(directory: String) throws -> [LabelledReplay] {
        let labelsPath = directory + "/labels.csv"
        guard let data = FileManager.default.contents(atPath: labelsPath) else {
            throw FormatError(description: "cannot read \(labelsPath): a recorded set needs labels.csv with the header \(labelsHeader)")
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard lines.first?.replacingOccurrences(of: " ", with: "") == labelsHeader else {
            throw FormatError(description: "\(labelsPath):1: the header must be '\(labelsHeader)', found '\(lines.first ?? "")'")
        }
        return try lines.dropFirst().enumerated().map { index, line in
            let number = index + 2
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 5 else {
                throw FormatError(description: "\(labelsPath):\(number): expected 5 fields (\(labelsHeader)), found \(fields.count)")
            }
            let host = fields[0]
            guard fields[1] == "leak" || fields[1] == "ok" else {
                throw FormatError(description: "\(labelsPath):\(number): label '\(fields[1])' must be leak or ok")
            }
            let isLeak = fields[1] == "leak"
            var leakStart: Double?
            if !fields[3].isEmpty {
                guard let value = Double(fields[3]), value.isFinite else {
                    throw FormatError(description: "\(labelsPath):\(number): leak_start_seconds '\(fields[3])' is not a number")
                }
                leakStart = value
            }
            if isLeak && leakStart == nil {
                throw FormatError(description: "\(labelsPath):\(number): a leak needs leak_start_seconds (0: from the start)")
            }
            let sites = Set(fields[4].split(whereSeparator: { $0 == ";" || $0 == "|" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            var series = try ReplaySeries(path: try existing(directory, host, ".csv"), host: host)
            if let sitesPath = try? existing(directory, host, ".sites.csv") { try series.addSites(path: sitesPath) }
            return LabelledReplay(
                kind: fields[2].isEmpty ? fields[1] : fields[2], seed: nil, isLeak: isLeak, series: series,
                leakStartSeconds: isLeak ? leakStart : nil, leakingSites: sites)
        }
    }

    /// `DIR/<host><suffix>`, plain or gzipped.
    static func existing(_ directory: String, _ host: String, _ suffix: String) throws -> String {
        for path in ["\(directory)/\(host)\(suffix)", "\(directory)/\(host)\(suffix).gz"] where FileManager.default.fileExists(atPath: path) {
            return path
        }
        throw FormatError(description: "no \(host)\(suffix) or \(host)\(suffix).gz in \(directory) for host '\(host)' of labels.csv")
    }
}
