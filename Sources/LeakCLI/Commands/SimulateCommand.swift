import ArgumentParser
import Foundation
import Synchronization

public struct SimulateCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay recorded memory series (CSV) as hosts, through the real protocol.",
        usage: "collector-cli simulate <file.csv[.gz]>... [--sites HOST=FILE]... [--speed N] [<options>]",
        discussion: """
            Each file is one host, named after the file (web-3.csv.gz is host web-3) unless --host
            is given. Header: t_seconds,heap_bytes,rss_bytes,alloc_count,free_count,pid; a pid
            change is a restart; missing rows are a gap. Site files (--sites) have the header
            t_seconds,site_id,live_bytes; each site_id becomes a one-frame stack. Times are
            t_seconds after --start (default: so that the longest series ends now).
            Hosts replay in parallel, as fast as the collector acknowledges unless --speed.
            The token is needed as for any agent (--token-file, LEAKWATCH_TOKEN_FILE, LEAKWATCH_TOKEN).

            Examples:
              collector-cli simulate docs/examples/simulate/web-3.csv --sites web-3=docs/examples/simulate/web-3.sites.csv
              collector-cli simulate recorded/*.csv.gz --service checkout
              collector-cli simulate web-3.csv --speed 3600 --start 2026-03-02T00:00:00Z
            """)

    @OptionGroup public var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("Host series files, plain or gzipped CSV.", valueName: "file"))
    public var files: [String]

    @Option(help: ArgumentHelp("Per-site series for a host, HOST=FILE (FILE alone with a single host file).", valueName: "host=file"))
    public var sites: [String] = []

    @Option(help: ArgumentHelp("Host name for a single file (default: the file name without .csv/.csv.gz).", valueName: "name"))
    public var host: String?

    @Option(help: ArgumentHelp("Service name the simulated agents announce.", valueName: "name"))
    public var service: String = "simulated"

    @Option(help: ArgumentHelp("Start time, RFC 3339 UTC (e.g. 2026-03-02T00:00:00Z) (default: the longest series ends now).",
                               valueName: "time"))
    public var start: String?

    @Option(help: ArgumentHelp("Replay speed as a multiple of real time, e.g. 3600 (default: as fast as the collector acknowledges).",
                               valueName: "factor"))
    public var speed: Double?

    @Option(help: ArgumentHelp("Snapshots in flight per host before waiting for Acks.", valueName: "n"))
    public var window: Int = 64

    public init() {}

    public func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one CSV file") }
        if host != nil && files.count != 1 { throw ValidationError("--host names the host of a single file; \(files.count) files given") }
        if let speed, !(speed > 0 && speed.isFinite) { throw ValidationError("--speed must be a positive number") }
        guard window >= 1 else { throw ValidationError("--window must be 1 or more") }
        if let start, Self.parseTime(start) == nil {
            throw ValidationError("--start '\(start)' is not an RFC 3339 UTC time such as 2026-03-02T00:00:00Z")
        }
    }

    static func parseTime(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1e9).rounded()) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1e9).rounded()) }
    }

    func resolve(_ path: String, _ context: CLIContext) -> String {
        path.hasPrefix("/") ? path : context.currentDirectory + "/" + path
    }

    /// The series to replay, with their site files joined.
    func loadSeries(_ context: CLIContext) throws -> [ReplaySeries] {
        var series = try files.map { try ReplaySeries(path: resolve($0, context), host: host) }
        let names = series.map(\.host)
        if let duplicate = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw CLIError.badArguments.with("two files stand for host '\(duplicate)': give each host one file")
        }
        for pairing in sites {
            var hostName: String, path: String
            if let equals = pairing.firstIndex(of: "=") {
                hostName = String(pairing[..<equals])
                path = String(pairing[pairing.index(after: equals)...])
            } else if series.count == 1 {
                hostName = series[0].host
                path = pairing
            } else {
                throw CLIError.badArguments.with("--sites '\(pairing)': with several host files, write HOST=FILE")
            }
            guard let index = series.firstIndex(where: { $0.host == hostName }) else {
                throw CLIError.badArguments.with(
                    "--sites '\(pairing)': no host file for '\(hostName)' (hosts: \(names.joined(separator: ", ")))")
            }
            try series[index].addSites(path: resolve(path, context))
        }
        return series
    }

    public func execute(_ context: CLIContext) throws -> CommandOutput {
        let series = try loadSeries(context)
        let endpoint = try CollectorEndpoint.resolve(option: connection.collector, environment: context.environment)
        let token = try FleetToken.resolve(option: connection.tokenFile, context: context) ?? []
        let tls = try connection.tls(context)
        let longest = series.map { $0.rows.last!.tSeconds }.max() ?? 0
        let startUnixNanos = start.flatMap(Self.parseTime) ?? (context.nowUnixNanos - Int64(longest * 1e9))

        let stackIDs = ReplaySeries.stackIDs(series)
        let clockStart = Date()
        let results = ResultBox(count: series.count)
        let group = DispatchGroup()
        for (index, hostSeries) in series.enumerated() {
            let speed = speed, window = window, service = service
            let connectTimeout = context.connectTimeoutSeconds, requestTimeout = context.requestTimeoutSeconds
            group.enter()
            Thread.detachNewThread {
                let agent = ReplayAgent(
                    series: hostSeries, service: service, endpoint: endpoint, token: token, startUnixNanos: startUnixNanos,
                    stackIDs: stackIDs, window: window, tls: tls, connectTimeoutSeconds: connectTimeout,
                    requestTimeoutSeconds: requestTimeout)
                results.set(index, Result { try agent.run(speed: speed, clockStart: clockStart) })
                group.leave()
            }
        }
        group.wait()
        let elapsed = max(Date().timeIntervalSince(clockStart), 1e-6)

        var lines: [String] = []
        var total = 0
        for result in results.all {
            let summary = try result.get()  // the first failure, in file order, decides the exit code
            total += summary.snapshots
            lines.append("\(Units.pad(summary.host, 20)) \(Units.padLeft(Units.count(summary.snapshots), 9)) snapshots, "
                + "\(summary.instances) process instance\(summary.instances == 1 ? "" : "s"), \(Units.bytes(summary.bytesSent)) sent")
        }
        lines.append("replayed \(Units.count(total)) snapshots of \(series.count) host\(series.count == 1 ? "" : "s") in "
            + String(format: "%.2f", elapsed) + " s (\(Units.count(Int(Double(total) / elapsed))) snapshots/s) to \(endpoint); "
            + "times from \(Units.rfc3339(unixNanos: startUnixNanos))")
        return CommandOutput(text: lines.joined(separator: "\n") + "\n")
    }
}

/// Per-host results written by replay threads.
private final class ResultBox: Sendable {
    private let results: Mutex<[Result<ReplayAgent.Summary, any Error>]>

    init(count: Int) {
        results = Mutex(Array(repeating: .failure(CLIError.collectorFailed.with("replay did not finish")), count: count))
    }

    func set(_ index: Int, _ result: sending Result<ReplayAgent.Summary, any Error>) {
        results.withLock { $0[index] = result }
    }

    var all: [Result<ReplayAgent.Summary, any Error>] {
        results.withLock { $0 }
    }
}
