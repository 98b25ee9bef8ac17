import ArgumentParser
import LeakWire

public struct ReportCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "One host's leak verdict, memory, chart, growing sites, sizes and events.",
        usage: "collector-cli report --host <name> [--since <duration>] [--format text|json] [<options>]",
        discussion: """
            The first line is the verdict: status, growth rate, since when, confidence.

            Examples:
              collector-cli report --host web-3
              collector-cli report --host web-3 --since 2d --format json
              LEAKWATCH_COLLECTOR=collector.internal:7070 collector-cli report --host web-3 --since 6h
            """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Host to report on, as its agent names it.", valueName: "name"))
    public var host: String

    @Option(help: ArgumentHelp("Window to look back over, e.g. 6h, 2d, 1h30m (default: the collector's).", valueName: "duration"))
    public var since: String?

    @Option(help: "Output format: text or json.")
    public var format: OutputFormat = .text

    @Option(help: ArgumentHelp("Growing sites to show in text output.", valueName: "n"))
    public var sites: Int = 5

    @Option(help: ArgumentHelp("Stack frames to show per site in text output.", valueName: "n"))
    public var frames: Int = 6

    public init() {}

    public func validate() throws {
        try validateHostName(host)
        guard sites >= 0, frames >= 0 else { throw ValidationError("--sites and --frames must be 0 or more") }
        _ = try Self.sinceOrValidationError(since)
    }

    static func sinceOrValidationError(_ text: String?) throws -> SinceArgument? {
        do { return try parseSince(text) } catch let error as CLIError { throw ValidationError(error.message) }
    }

    public func execute(_ context: CLIContext) throws -> CommandOutput {
        let since = try parseSince(since)
        let windowStart = since?.startUnixNanos(now: context.nowUnixNanos) ?? 0
        let client = try connection.connect(context)
        defer { client.close() }
        let report: Leakwatch_V1_HostReportResponse
        do {
            report = try client.hostReport(host: host, sinceUnixNanos: windowStart)
        } catch let error as CLIError where error == .unknownHost {
            throw error.with(NameSuggestions.unknownHostMessage(host, known: client.knownHostNames()))
        }
        guard report.hostFound else {
            let known = report.knownHosts.isEmpty ? client.knownHostNames() : report.knownHosts
            throw CLIError.unknownHost.with(NameSuggestions.unknownHostMessage(host, known: known))
        }
        guard report.latestTimestampUnixNanos != 0 || !report.series.isEmpty else {
            throw CLIError.noData.with(
                "host '\(host)' is known but has sent no snapshot\(since.map { " in the last \($0.text)" } ?? "") yet; "
                    + "its agent reports every interval (10 s by default), so try again shortly")
        }
        var renderer = ReportRenderer(nowUnixNanos: context.nowUnixNanos, style: TextStyle(enabled: context.usesColour))
        renderer.siteLimit = sites
        renderer.frameLimit = frames
        switch format {
        case .text: return CommandOutput(text: renderer.text(report))
        case .json: return CommandOutput(text: renderer.json(report, windowStartUnixNanos: windowStart).rendered())
        }
    }
}
