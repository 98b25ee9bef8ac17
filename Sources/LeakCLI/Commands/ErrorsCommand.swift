import ArgumentParser
import LeakWire

public struct ErrorsCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "errors",
        abstract: "Memory-safety errors the agents' guarded pools caught, one row per allocation site and kind.",
        usage: "collector-cli errors [--service <name>] [--since <duration>] [--format text|json] [<options>]",
        discussion: """
            Overflows, use-after-free, double and invalid frees (docs/AGENT.md, "Guard pages"), ranked
            by the number of hosts that hit them, then by occurrences, then by the newest.

            Examples:
              collector-cli errors
              collector-cli memory-errors --service checkout --since 7d
              collector-cli errors --format json
            """,
        aliases: ["memory-errors"])

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Only hosts of this service.", valueName: "name"))
    public var service: String?

    @Option(help: ArgumentHelp("Only errors in this window, e.g. 6h, 7d (default: every stored error).", valueName: "duration"))
    public var since: String?

    @Option(help: ArgumentHelp("Stack frames to show per stack in text output.", valueName: "n"))
    public var frames: Int = 3

    @Option(help: ArgumentHelp("Most rows to list (0: the collector's default).", valueName: "n"))
    public var limit: Int = 0

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    public init() {}

    public func validate() throws {
        guard frames >= 0, limit >= 0 else { throw ValidationError("--frames and --limit must be 0 or more") }
        _ = try ReportCommand.sinceOrValidationError(since)
    }

    public func execute(_ context: CLIContext) throws -> CommandOutput {
        let since = try parseSince(since)
        let windowStart = since?.startUnixNanos(now: context.nowUnixNanos) ?? 0
        let client = try connection.connect(context)
        defer { client.close() }
        let sites = try client.memoryErrors(serviceName: service ?? "", sinceUnixNanos: windowStart,
                                            limit: UInt32(clamping: limit)).sites
        switch format {
        case .json:
            return CommandOutput(text: JSONValue.object([
                ("schemaVersion", .integer(1)),
                ("service", service.map(JSONValue.string) ?? .null),
                ("windowStart", .time(unixNanos: windowStart)),
                ("errors", .array(sites.map(Self.json))),
            ]).rendered())
        case .text:
            guard !sites.isEmpty else {
                let scope = (service.map { " on hosts of service '\($0)'" } ?? "") + (since.map { " in the last \($0.text)" } ?? "")
                return CommandOutput(text: "no memory errors\(scope): the guarded pools of the agents caught none\n")
            }
            return CommandOutput(text: text(sites, now: context.nowUnixNanos, style: TextStyle(enabled: context.usesColour)))
        }
    }

    func text(_ sites: [Leakwatch_V1_MemoryErrorSite], now: Int64, style: TextStyle) -> String {
        let width = ReportRenderer.width
        var lines = [style.bold("Memory errors") + "  " + style.dim("by allocation site and kind, most hosts first")]
        for (index, site) in sites.enumerated() {
            var summary = Units.padLeft("\(index + 1).", 4) + " " + MemoryErrorRendering.kindName(site.kind)
            summary += "  \(site.hostCount) host" + (site.hostCount == 1 ? "" : "s")
            summary += ", \(Units.count(site.occurrences)) time" + (site.occurrences == 1 ? "" : "s")
            summary += "  first " + Units.ago(unixNanos: site.firstSeenUnixNanos, now: now)
            summary += ", last " + Units.ago(unixNanos: site.lastSeenUnixNanos, now: now)
            lines.append(Units.fit(summary, width: width))
            lines.append(Units.fit("        hosts " + site.hosts.joined(separator: ", ")
                + (site.hostCount > site.hosts.count ? ", …" : ""), width: width))
            for (label, frames) in [("allocated at", site.allocationFrames), ("newest at", site.accessFrames)] {
                for (number, frame) in MemoryErrorRendering.topFrames(frames, limit: self.frames).enumerated() {
                    let lead = number == 0 ? label : String(repeating: " ", count: label.count)
                    lines.append(Units.fit("        \(lead) " + SiteRendering.frameText(frame), width: width))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ site: Leakwatch_V1_MemoryErrorSite) -> JSONValue {
        .object([
            ("kind", .string(MemoryErrorRendering.kindName(site.kind))),
            ("hostCount", .unsigned(UInt64(site.hostCount))),
            ("occurrences", .unsigned(site.occurrences)),
            ("firstSeen", .time(unixNanos: site.firstSeenUnixNanos)),
            ("lastSeen", .time(unixNanos: site.lastSeenUnixNanos)),
            ("hosts", .array(site.hosts.map(JSONValue.string))),
            ("blockSizeBytes", .unsigned(site.blockSizeBytes)),
            ("allocationFrames", .array(site.allocationFrames.map(SiteRendering.frameJSON))),
            ("accessFrames", .array(site.accessFrames.map(SiteRendering.frameJSON))),
        ])
    }
}
