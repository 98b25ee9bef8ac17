import ArgumentParser
import LeakWire

public struct DiffCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "How each site's live bytes changed between two times: largest growth first, with stacks.",
        usage: "collector-cli diff --host <name> --from <time> [--to <time>] [--format text|json] [<options>]",
        discussion: """
            Compares the host's stored snapshot nearest each time (the newest at or before it; the
            oldest stored when none is that old), as heaptrack -d and jeprof --base compare two
            profiles. Times are RFC 3339 (2026-12-07T09:00:00Z) or a duration back from now (6h).
            Sites whose live bytes did not change are left out; shrinking sites come last.

            Examples:
              collector-cli diff --host web-3 --from 6h
              collector-cli diff --host web-3 --from 2026-12-07T09:00:00Z --to 2026-12-07T12:00:00Z
              collector-cli diff --host web-3 --from 1d --format json
              collector-cli export --host web-3 --format pprof --base 6h
            """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Host to compare.", valueName: "name"))
    public var host: String

    @Option(help: ArgumentHelp("The base: RFC 3339, or a duration back from now such as 6h.", valueName: "time"))
    public var from: String

    @Option(help: ArgumentHelp("Compared with the base (default: the newest snapshot).", valueName: "time"))
    public var to: String?

    @Option(help: ArgumentHelp(
        "Stack frames to show per site in text output (default: down to the first frame of the application).",
        valueName: "n"))
    public var frames: Int?

    @Option(help: ArgumentHelp("Most sites to list, the largest changes either way (0: the collector's default).", valueName: "n"))
    public var limit: Int = 0

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Flag(name: .customLong("runtime-frames"), help: "Also show the allocator and runtime frames above each stack's first frame with source.")
    public var runtimeFrames = false

    public init() {}

    public func validate() throws {
        try validateHostName(host)
        guard (frames ?? 0) >= 0, limit >= 0 else { throw ValidationError("--frames and --limit must be 0 or more") }
        _ = try timeOrValidationError(from, option: "--from")
        _ = try timeOrValidationError(to, option: "--to")
    }

    public func execute(_ context: CLIContext) throws -> CommandOutput {
        let fromNanos = try TimeArgument(parsing: from, option: "--from").unixNanos(now: context.nowUnixNanos)
        let toNanos = try parseTime(to, option: "--to")?.unixNanos(now: context.nowUnixNanos) ?? 0
        if toNanos != 0 && toNanos < fromNanos {
            throw CLIError.badArguments.with("--to '\(to ?? "")' is before --from '\(from)': give the base first")
        }
        let client = try connection.connect(context)
        defer { client.close() }
        let diff = try fetchSiteDiff(client: client, host: host, fromUnixNanos: fromNanos, toUnixNanos: toNanos,
                                     limit: UInt32(clamping: limit))
        let style = TextStyle(enabled: context.usesColour)
        switch format {
        case .json:
            return CommandOutput(text: JSONValue.object([
                ("schemaVersion", .integer(1)),
                ("host", .string(diff.host)),
                ("from", .time(unixNanos: diff.fromSnapshotUnixNanos)),
                ("to", .time(unixNanos: diff.toSnapshotUnixNanos)),
                ("deltaBytes", .integer(diff.changes.reduce(0) { $0 &+ SiteChangeRendering.deltaBytes($1) })),
                ("sites", .array(diff.changes.map(SiteChangeRendering.json))),
            ]).rendered())
        case .text:
            return CommandOutput(text: Self.text(diff, frames: frames, showRuntimeFrames: runtimeFrames, style: style))
        }
    }

    static func text(_ diff: Leakwatch_V1_SiteDiffResponse, frames: Int?, showRuntimeFrames: Bool, style: TextStyle) -> String {
        let from = diff.fromSnapshotUnixNanos, to = diff.toSnapshotUnixNanos
        let span = Units.rfc3339(unixNanos: from) + " → " + Units.rfc3339(unixNanos: to)
            + " (" + Units.duration(seconds: Saturating.seconds(from: from, to: to)) + ")"
        guard !diff.changes.isEmpty else {
            return style.bold(diff.host) + "  " + span + "\nno site's live bytes changed between these snapshots\n"
        }
        let growing = diff.changes.filter { SiteChangeRendering.deltaBytes($0) > 0 }
        let shrinking = diff.changes.filter { SiteChangeRendering.deltaBytes($0) < 0 }
        var totals: [String] = []
        if !growing.isEmpty {
            let sum = growing.reduce(0) { $0 &+ SiteChangeRendering.deltaBytes($1) }
            totals.append(SiteChangeRendering.signedBytes(sum) + " in \(growing.count) growing site" + (growing.count == 1 ? "" : "s"))
        }
        if !shrinking.isEmpty {
            let sum = shrinking.reduce(0) { $0 &+ SiteChangeRendering.deltaBytes($1) }
            totals.append(SiteChangeRendering.signedBytes(sum) + " in \(shrinking.count) shrinking")
        }
        var lines = [style.bold(diff.host) + "  " + span, style.dim(totals.joined(separator: ", ") + ", largest growth first")]
        for (index, change) in diff.changes.enumerated() {
            lines.append(contentsOf: SiteChangeRendering.block(
                change, rank: index + 1,
                frameLimit: frames ?? SiteRendering.framesToFirstApplicationFrame(change.frames, showRuntimeFrames: showRuntimeFrames),
                width: ReportRenderer.width, style: style, showRuntimeFrames: showRuntimeFrames))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `--from`, `--to` and `--base` checks in `validate()`.
func timeOrValidationError(_ text: String?, option: String) throws -> TimeArgument? {
    do { return try parseTime(text, option: option) } catch let error as CLIError { throw ValidationError(error.message) }
}

/// A host's site diff; an empty store for the host is no data, an unknown host gets suggestions.
func fetchSiteDiff(client: CollectorClient, host: String, fromUnixNanos: Int64, toUnixNanos: Int64, limit: UInt32) throws
    -> Leakwatch_V1_SiteDiffResponse {
    let diff: Leakwatch_V1_SiteDiffResponse
    do {
        diff = try client.siteDiff(host: host, fromUnixNanos: fromUnixNanos, toUnixNanos: toUnixNanos, limit: limit)
    } catch let error as CLIError where error == .unknownHost {
        throw error.with(NameSuggestions.unknownHostMessage(host, known: client.knownHostNames()))
    }
    guard diff.fromSnapshotUnixNanos != 0 else {
        throw CLIError.noData.with("host '\(host)' has no snapshot stored yet: nothing to compare")
    }
    return diff
}
