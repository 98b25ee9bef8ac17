import Foundation

/// What the alert hook reads on stdin, one JSON object per run (schema in docs/OPERATIONS.md,
/// "Alert hook"). Keys are stable; new ones may be added, none removed.
struct AlertDocument: Encodable, Sendable {
    /// "status-change" or "memory-error".
    var kind: String
    var host: String
    var service: String
    /// "ok", "growing" or "suspected-leak". Both the host's current status for a memory error, and
    /// for a status change that is its sites' alone.
    var oldStatus: String
    var newStatus: String
    /// Growth of the heap floor from the newest verdict; 0 when none.
    var rateBytesPerHour: Double
    /// RFC 3339: when the growth began (nil when the verdict does not say).
    var since: String?
    var confidence: Double
    /// The verdict's one-line evidence.
    var summary: String
    /// RFC 3339: the verdict's time, or the newest memory error's.
    var at: String
    /// The sites the verdict names, fastest growth first.
    var sites: [Site]
    /// Status changes only: the sites whose status changed since the host's previous judged
    /// verdict, worst new status first (a site the verdict no longer names is back to "ok").
    var siteChanges: [SiteChange]
    /// The memory errors that arrived (kind "memory-error" only), newest first.
    var memoryErrors: [MemoryError]
    /// A shell-quoted command line that shows the host's full report.
    var reportCommand: String

    struct Site: Encodable, Sendable {
        var stackId: Int64
        var status: String
        var rateBytesPerHour: Double
        var liveBytes: Int64
        var typeName: String?
        var topFrames: [Frame]
    }

    struct SiteChange: Encodable, Sendable {
        var stackId: Int64
        var oldStatus: String
        var newStatus: String
        /// 0 for a site back to ok.
        var rateBytesPerHour: Double
        /// nil for a site back to ok (the verdict no longer names it).
        var liveBytes: Int64?
        var typeName: String?
        var topFrames: [Frame]
    }

    struct MemoryError: Encodable, Sendable {
        var kind: String
        var access: String
        var at: String
        var blockSizeBytes: Int64
        var blockOffset: Int64
        var recovered: Bool
        var allocationFrames: [Frame]
        var accessFrames: [Frame]
    }

    struct Frame: Encodable, Sendable {
        var function: String
        var file: String?
        var line: UInt32?
        var image: String
    }

    /// Frames a document shows of each stack: enough to name the caller past the allocation.
    static let topFrameCount = 6

    static func frames(_ stack: StackRecord?) -> [Frame] {
        guard let stack, let frames = try? JSONDecoder().decode([StackFrame].self, from: Data(stack.frames.utf8)) else { return [] }
        return frames.prefix(topFrameCount).map {
            Frame(function: $0.function, file: $0.file.isEmpty ? nil : $0.file, line: $0.line == 0 ? nil : $0.line, image: $0.image)
        }
    }

    static func timestamp(ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// `collector-cli report --host 'web-3'`, quoted for a POSIX shell.
    static func reportCommand(prefix: String, host: String) -> String {
        "\(prefix) report --host '\(host.replacingOccurrences(of: "'", with: "'\\''"))'"
    }
}
