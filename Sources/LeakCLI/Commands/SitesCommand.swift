import ArgumentParser
import LeakWire

public struct SitesCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "sites",
        abstract: "Every sampled allocation site of a host: live bytes and objects, growth, status, frames.",
        usage: "collector-cli sites --host <name> [--since <duration>] [--format text|json] [<options>]",
        discussion: """
            Sites are sorted by growth rate, then by live bytes.

            Examples:
              collector-cli sites --host web-3
              collector-cli sites --host web-3 --since 6h --frames 10
              collector-cli sites --host web-3 --format json
            """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Host whose sites to list.", valueName: "name"))
    public var host: String

    @Option(help: ArgumentHelp("Window for growth rates, e.g. 6h, 2d (default: the collector's).", valueName: "duration"))
    public var since: String?

    @Option(help: ArgumentHelp(
        "Stack frames to show per site in text output (default: down to the first frame of the application, at least 3).",
        valueName: "n"))
    public var frames: Int?

    @Option(help: ArgumentHelp("Most sites to list (0: the collector's default).", valueName: "n"))
    public var limit: Int = 0

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Flag(name: .customLong("runtime-frames"), help: "Also show the allocator and runtime frames above each stack's first frame with source.")
    public var runtimeFrames = false

    public init() {}

    public func validate() throws {
        try validateHostName(host)
        guard (frames ?? 0) >= 0, limit >= 0 else { throw ValidationError("--frames and --limit must be 0 or more") }
        _ = try ReportCommand.sinceOrValidationError(since)
    }

    public func execute(_ context: CLIContext) throws -> CommandOutput {
        let since = try parseSince(since)
        let windowStart = since?.startUnixNanos(now: context.nowUnixNanos) ?? 0
        let client = try connection.connect(context)
        defer { client.close() }
        let sites = try fetchSites(client: client, host: host, sinceUnixNanos: windowStart, limit: UInt32(clamping: limit))
        guard !sites.isEmpty else {
            throw CLIError.noData.with(
                "host '\(host)' has no sampled allocation site\(since.map { " in the last \($0.text)" } ?? "") yet: "
                    + "sites appear once its agent has sampled allocations that stay live")
        }
        let ordered = Self.ordered(sites)
        let style = TextStyle(enabled: context.usesColour)
        switch format {
        case .json:
            return CommandOutput(text: JSONValue.object([
                ("schemaVersion", .integer(1)),
                ("host", .string(host)),
                ("windowStart", .time(unixNanos: windowStart)),
                ("sites", .array(ordered.map(SiteRendering.json))),
            ]).rendered())
        case .text:
            var lines = [style.bold(host) + "  " + style.dim("\(ordered.count) sampled allocation sites, fastest growing first")]
            for (index, site) in ordered.enumerated() {
                lines.append(contentsOf: SiteRendering.block(
                    site, rank: index + 1,
                    frameLimit: frames ?? SiteRendering.framesToFirstApplicationFrame(site.frames, showRuntimeFrames: runtimeFrames),
                    width: ReportRenderer.width, style: style,
                    showRuntimeFrames: runtimeFrames))
            }
            return CommandOutput(text: lines.joined(separator: "\n") + "\n")
        }
    }

    static func ordered(_ sites: [Leakwatch_V1_SiteReport]) -> [Leakwatch_V1_SiteReport] {
        sites.sorted { a, b in
            if a.rateBytesPerHour != b.rateBytesPerHour { return a.rateBytesPerHour > b.rateBytesPerHour }
            if a.liveBytes != b.liveBytes { return a.liveBytes > b.liveBytes }
            return a.stackID < b.stackID
        }
    }
}

/// A host's sites, turning an unknown-host answer into suggestions.
func fetchSites(client: CollectorClient, host: String, sinceUnixNanos: Int64, limit: UInt32) throws -> [Leakwatch_V1_SiteReport] {
    do {
        let sites = try client.sites(host: host, sinceUnixNanos: sinceUnixNanos, limit: limit).sites
        // A collector may answer an unknown host with an empty list rather than an error.
        if sites.isEmpty {
            let known = client.knownHostNames()
            if !known.contains(host) {
                throw CLIError.unknownHost.with(NameSuggestions.unknownHostMessage(host, known: known))
            }
        }
        return sites
    } catch let error as CLIError where error == .unknownHost {
        throw error.with(NameSuggestions.unknownHostMessage(host, known: client.knownHostNames()))
    }
}
