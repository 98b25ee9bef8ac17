import ArgumentParser
import LeakWire

public struct HostsCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "The fleet ranked by suspicion: suspected leaks first, then growing hosts.",
        usage: "collector-cli hosts [--service <name>] [--watch [<seconds>]] [--format text|json|html]",
        discussion: """
            Stale hosts (no snapshot for several intervals) are marked "stale". Host and service
            names are cut only when the terminal is too narrow for them; never with --wide or when
            the output is not a terminal. --watch redraws the view every 2 seconds (or SECONDS) in
            place on a terminal, one after another otherwise, until Ctrl-C. --format html writes one
            self-contained page: the table, each host linking to its section.

            Examples:
              collector-cli hosts
              collector-cli hosts --service checkout --format json
              collector-cli hosts --watch
              collector-cli hosts --watch 10 --wide
              collector-cli hosts --format html --output fleet.html
            """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Only hosts of this service.", valueName: "name"))
    public var service: String?

    @Option(help: "Output format: text, json or html.")
    public var format: DocumentFormat = .text

    @Option(name: [.short, .long], help: ArgumentHelp("File to write instead of standard output, e.g. fleet.html.", valueName: "path"))
    public var output: String?

    /// Seconds between redraws when `--watch` is given without a number (`ArgumentNormalization`).
    public static let defaultWatchSeconds = "2"

    @Option(help: ArgumentHelp("Redraw every SECONDS (default 2) until Ctrl-C.", valueName: "seconds"))
    public var watch: Double?

    @Flag(help: "Never cut host or service names, however narrow the terminal.")
    public var wide = false

    public init() {}

    public func validate() throws {
        if let watch, !(watch >= 0.1 && watch <= 86_400) {
            throw ValidationError("--watch \(watch) is not an interval: give seconds between 0.1 and 86400, e.g. --watch 5")
        }
        if watch != nil && (format == .html || output != nil) {
            throw ValidationError("--watch redraws on the terminal: --format html and --output write one page, without --watch")
        }
    }

    public func execute(_ context: CLIContext) throws -> CommandOutput {
        guard let watch, let live = context.liveOutput else {
            let document = try view(context, nowUnixNanos: context.nowUnixNanos)
            guard let output, output != "-" else { return CommandOutput(text: document) }
            let bytes = Array(document.utf8)
            try OutputFile.write(bytes, to: output, context: context)
            return CommandOutput(text: "wrote \(output): \(format.rawValue) fleet view, \(Units.count(bytes.count)) bytes\n")
        }
        let loop = WatchLoop(intervalSeconds: watch, fullScreen: context.standardOutputIsTerminal,
                             title: "Every \(watch == watch.rounded() ? String(Int(watch)) : String(watch))s: collector-cli hosts")
        // A failed redraw (the collector restarting) is shown in place of the view, and the next
        // one connects again, as `watch` would.
        loop.run(output: live, now: context.clock) { now in
            do { return try view(context, nowUnixNanos: now) } catch let error as CLIError {
                return "error: \(error.message)\n"
            } catch {
                return "error: \(error)\n"
            }
        }
        return CommandOutput(text: "")
    }

    /// One fleet view, as text, JSON or HTML, on a connection of its own.
    private func view(_ context: CLIContext, nowUnixNanos: Int64) throws -> String {
        let client = try connection.connect(context)
        defer { client.close() }
        let overview = try client.fleetOverview(serviceName: service ?? "")
        let hosts = Self.ranked(overview.hosts)
        guard !hosts.isEmpty else {
            throw CLIError.noData.with(service.map { "no host of service '\($0)' has reported yet" }
                ?? "no host has reported to the collector at \(client.endpoint) yet; start an agent pointed at it")
        }
        let renderer = HostsRenderer(nowUnixNanos: nowUnixNanos, style: TextStyle(enabled: context.usesColour),
                                     maximumWidth: wide ? nil : context.terminalColumns)
        switch format {
        case .text: return renderer.text(hosts, verdictLoop: overview.verdictLoop)
        case .json: return renderer.json(hosts).rendered()
        case .html: return renderer.html(hosts, verdictLoop: overview.verdictLoop, heapSeries: try heapSeries(hosts, client: client))
        }
    }

    /// The heap over the day before each growing or leaking host's last snapshot, for its
    /// chart on the page; the most suspicious first, at most `HostsRenderer.chartedHosts`.
    private func heapSeries(_ hosts: [Leakwatch_V1_HostOverview], client: CollectorClient) throws -> [String: [Leakwatch_V1_SeriesPoint]] {
        var series: [String: [Leakwatch_V1_SeriesPoint]] = [:]
        for host in hosts.filter({ HostStatus($0.status) >= .growing && $0.lastSeenUnixNanos > 0 }).prefix(HostsRenderer.chartedHosts) {
            let to = host.lastSeenUnixNanos
            series[host.host] = try client.series(host: host.host, fromUnixNanos: Saturating.difference(to, 86_400_000_000_000),
                                                  toUnixNanos: to)
        }
        return series
    }

    /// Suspected leaks first, then growing, ok, unknown; within a status the fastest growth
    /// weighted by confidence first, then by name.
    public static func ranked(_ hosts: [Leakwatch_V1_HostOverview]) -> [Leakwatch_V1_HostOverview] {
        hosts.sorted { a, b in
            let sa = HostStatus(a.status), sb = HostStatus(b.status)
            if sa != sb { return sa > sb }
            // NaN (never stored today) ranks as 0, so the order stays a strict weak ordering.
            func weight(_ host: Leakwatch_V1_HostOverview) -> Double {
                let weight = host.rateBytesPerHour * max(host.confidence, 0.01)
                return weight.isNaN ? 0 : weight
            }
            let wa = weight(a), wb = weight(b)
            if wa != wb { return wa > wb }
            return a.host < b.host
        }
    }
}

/// The fleet overview in text (a table) and JSON (an array).
public struct HostsRenderer: Sendable {
    public var nowUnixNanos: Int64
    public var style: TextStyle
    /// The terminal's width: host and service names are cut only to fit it. nil (not a terminal,
    /// or `--wide`): never cut.
    public var maximumWidth: Int?

    public init(nowUnixNanos: Int64, style: TextStyle, maximumWidth: Int? = nil) {
        self.nowUnixNanos = nowUnixNanos
        self.style = style
        self.maximumWidth = maximumWidth
    }

    // HOST 18, SERVICE 14, STATUS 16, RATE 13, HEAP 11, RSS 11, LAST SEEN 17: 100 columns with
    // names that fit; HOST and SERVICE widen to their longest name.
    private static let minimumColumns = [18, 14, 16, 13, 11, 11]
    private static let lastSeenWidth = 17

    /// Column widths for these hosts: every name whole, unless that would pass `maximumWidth`;
    /// then HOST and SERVICE give back room, never below their minimum.
    func columns(_ hosts: [Leakwatch_V1_HostOverview]) -> [Int] {
        var columns = Self.minimumColumns
        columns[0] = max(columns[0], (hosts.map(\.host.count).max() ?? 0) + 2)
        columns[1] = max(columns[1], (hosts.map(\.serviceName.count).max() ?? 0) + 2)
        guard let maximumWidth else { return columns }
        var excess = columns.reduce(0, +) + Self.lastSeenWidth - maximumWidth
        for index in [1, 0] where excess > 0 {
            let giveBack = min(excess, columns[index] - Self.minimumColumns[index])
            columns[index] -= giveBack
            excess -= giveBack
        }
        return columns
    }

    /// `verdictLoop`: the collector's verdict loop; a line warns when its passes run late or
    /// have stopped, since every status above is then older than it looks.
    public func text(_ hosts: [Leakwatch_V1_HostOverview], verdictLoop: Leakwatch_V1_VerdictLoopStatus? = nil) -> String {
        let columns = columns(hosts)
        var lines = [row(["HOST", "SERVICE", "STATUS", "RATE", "HEAP", "RSS", "LAST SEEN"], columns: columns, styled: nil)]
        for host in hosts {
            let status = HostStatus(host.status)
            let rate = status >= .growing ? Units.rate(bytesPerHour: host.rateBytesPerHour) : "-"
            var seen = host.lastSeenUnixNanos == 0 ? "never" : Units.ago(unixNanos: host.lastSeenUnixNanos, now: nowUnixNanos)
            if host.stale { seen += " (stale)" }
            lines.append(row([
                Units.fit(host.host, width: columns[0] - 1),
                Units.fit(host.serviceName.isEmpty ? "-" : host.serviceName, width: columns[1] - 1),
                status.headline.lowercased(), rate, Units.bytes(host.currentBytes),
                host.rssBytes == 0 ? "-" : Units.bytes(host.rssBytes), seen,
            ], columns: columns, styled: status, stale: host.stale))
        }
        lines.append(style.dim(summary(hosts)))
        if let warning = verdictLoop.flatMap(loopWarning) { lines.append(style.yellow(warning)) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `4 hosts, 1 suspected leak, 2 ok, 1 stale`, as under the text table.
    func summary(_ hosts: [Leakwatch_V1_HostOverview]) -> String {
        let counts = Dictionary(grouping: hosts, by: { HostStatus($0.status) }).mapValues(\.count)
        var summary = "\(hosts.count) host" + (hosts.count == 1 ? "" : "s")
        for status in [HostStatus.suspectedLeak, .growing, .ok, .notEnoughData] where counts[status, default: 0] > 0 {
            summary += ", \(counts[status]!) " + status.headline.lowercased()
        }
        let stale = hosts.filter(\.stale).count
        if stale > 0 { summary += ", \(stale) stale" }
        return summary
    }

    /// A warning when the newest verdict pass started more than an interval late, or none has
    /// started for three intervals; nil while the loop keeps up (or is off).
    public func loopWarning(_ loop: Leakwatch_V1_VerdictLoopStatus) -> String? {
        let interval = loop.intervalSeconds
        guard interval > 0, loop.lastPassStartedUnixNanos > 0 else { return nil }
        let sinceLast = Saturating.seconds(from: loop.lastPassStartedUnixNanos, to: nowUnixNanos)
        let cost = "a pass takes \(Units.duration(seconds: loop.passSeconds)), "
            + "\(String(format: "%.1f", loop.cpuMillisecondsPerHost)) ms of CPU per host"
        if sinceLast > 3 * interval + loop.passSeconds {
            return "warning: no verdict pass has started for \(Units.duration(seconds: sinceLast)) "
                + "(every \(Units.duration(seconds: interval)) expected); the statuses above may be stale"
        }
        guard loop.lagSeconds > interval else { return nil }
        return "warning: verdict passes run late: the newest started \(Units.duration(seconds: loop.lagSeconds)) "
            + "after it was due (\(cost)); raise verdictIntervalSeconds or give the collector more CPU"
    }

    private func row(_ cells: [String], columns: [Int], styled status: HostStatus?, stale: Bool = false) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            let padded = index < columns.count ? Units.pad(cell, columns[index]) : cell
            switch index {
            case 2 where status != nil: line += style.status(status!, padded)
            case 6 where stale: line += style.dim(padded)
            default: line += status == nil ? style.bold(padded) : padded
            }
        }
        while line.last == " " { line.removeLast() }
        return line
    }

    public func json(_ hosts: [Leakwatch_V1_HostOverview]) -> JSONValue {
        .array(hosts.map { host in
            .object([
                ("host", .string(host.host)),
                ("service", .string(host.serviceName)),
                ("status", .string(HostStatus(host.status).rawValue)),
                ("rateBytesPerHour", .integer(Saturating.int64(host.rateBytesPerHour))),
                ("since", .time(unixNanos: host.sinceUnixNanos)),
                ("confidence", .decimal(host.confidence, places: 3)),
                ("explanation", .string(host.explanation)),
                ("lastSeen", .time(unixNanos: host.lastSeenUnixNanos)),
                ("stale", .bool(host.stale)),
                ("currentBytes", .unsigned(host.currentBytes)),
                ("rssBytes", .unsigned(host.rssBytes)),
            ])
        })
    }
}
