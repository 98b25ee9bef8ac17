import ArgumentParser
import LeakWire

public struct ReportCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "One host's leak verdict, memory, chart, growing sites, sizes and events.",
        usage: "collector-cli report --host <name> [--since <duration>] [--format text|json|html] [<options>]",
        discussion: """
            The first line is the verdict: status, growth rate, since when, confidence.
            --format html writes one self-contained page (charts, a flame graph of the live heap
            by stack; no network needed to open it) for a ticket or a browser.

            Examples:
              collector-cli report --host web-3
              collector-cli report --host web-3 --since 2d --format json
              collector-cli report --host web-3 --format html --output web-3.html
              LEAKWATCH_COLLECTOR=collector.internal:7070 collector-cli report --host web-3 --since 6h
            """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Host to report on, as its agent names it.", valueName: "name"))
    public var host: String

    @Option(help: ArgumentHelp("Window to look back over, e.g. 6h, 2d, 1h30m (default: the collector's).", valueName: "duration"))
    public var since: String?

    @Option(help: "Output format: text, json or html.")
    public var format: DocumentFormat = .text

    @Option(name: [.short, .long], help: ArgumentHelp("File to write instead of standard output, e.g. web-3.html.", valueName: "path"))
    public var output: String?

    @Option(help: ArgumentHelp("Growing sites to show in text and html output.", valueName: "n"))
    public var sites: Int = 5

    @Option(help: ArgumentHelp("Stack frames to show per site in text and html output.", valueName: "n"))
    public var frames: Int = 6

    @Flag(name: .customLong("runtime-frames"), help: "Also show the allocator and runtime frames above each stack's first frame with source.")
    public var runtimeFrames = false

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
        renderer.showRuntimeFrames = runtimeFrames
        let document: String
        switch format {
        case .text: document = renderer.text(report)
        case .json: document = renderer.json(report, windowStartUnixNanos: windowStart).rendered()
        case .html:
            document = renderer.html(report, windowStartUnixNanos: windowStart,
                                     extras: try pageExtras(report, renderer: renderer, client: client, windowStart: windowStart))
        }
        guard let output, output != "-" else { return CommandOutput(text: document) }
        let bytes = Array(document.utf8)
        try OutputFile.write(bytes, to: output, context: context)
        return CommandOutput(text: "wrote \(output): \(format.rawValue) report of \(host), "
            + "\(HostStatus(report.verdict.status).headline.lowercased()), \(Units.count(bytes.count)) bytes\n")
    }

    /// What the page draws beyond the report: each shown site's series over the report's
    /// window, and every sampled site for the flame graph.
    private func pageExtras(_ report: Leakwatch_V1_HostReportResponse, renderer: ReportRenderer, client: CollectorClient,
                            windowStart: Int64) throws -> ReportRenderer.PageExtras {
        var extras = ReportRenderer.PageExtras()
        let times = report.series.map(\.timestampUnixNanos)
        if let first = times.min(), let last = times.max() {
            for site in renderer.shownSites(report).sites {
                extras.siteSeries[site.stackID] = try client.series(host: host, stackID: site.stackID,
                                                                    fromUnixNanos: first, toUnixNanos: last)
            }
        }
        extras.heapSites = try client.sites(host: host, sinceUnixNanos: windowStart, limit: Self.flameGraphSiteLimit).sites
        return extras
    }

    /// Sites the flame graph asks for: all of them on any real host; frames too narrow to see
    /// are left out of the drawing, not of the totals.
    static let flameGraphSiteLimit: UInt32 = 100_000
}
