import ArgumentParser
import Foundation
import LeakWire

public struct ExportCommand: CLICommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a host's live-heap profile as gzipped pprof (go tool pprof, speedscope, Pyroscope).",
        usage: "collector-cli export --host <name> --format pprof [--base <time>] [--output <path>]",
        discussion: """
            Sample types: inuse_space (default), inuse_objects, alloc_space. Each sampled site is
            one sample, its stack leaf first; a site's Swift type is the label "type".
            With --base, the profile is the change since that time (inuse_space and inuse_objects,
            negative where a site shrank), as `diff` lists it.

            Examples:
              collector-cli export --host web-3 --format pprof
              collector-cli export --host web-3 --format pprof --output web-3.pb.gz
              collector-cli export --host web-3 --format pprof --base 6h --output web-3.growth.pb.gz
              go tool pprof -top -sample_index=inuse_space web-3.pb.gz
              collector-cli export --host web-3 --format pprof --output - | gzip -dc | protoc --decode_raw
            """)

    public enum ExportFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
        case pprof
    }

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Host to export.", valueName: "name"))
    public var host: String

    @Option(help: "Profile format: pprof.")
    public var format: ExportFormat = .pprof

    @Option(name: [.short, .long], help: ArgumentHelp(
        "File to write, '-' for standard output (default: HOST.pb.gz in the current directory).", valueName: "path"))
    public var output: String?

    @Option(help: ArgumentHelp("Window for growth, e.g. 6h (default: the collector's).", valueName: "duration"))
    public var since: String?

    @Option(help: ArgumentHelp(
        "Export the change since this time instead: RFC 3339, or a duration back from now such as 6h.", valueName: "time"))
    public var base: String?

    public init() {}

    public func validate() throws {
        try validateHostName(host)
        _ = try ReportCommand.sinceOrValidationError(since)
        _ = try timeOrValidationError(base, option: "--base")
        if base != nil && since != nil {
            throw ValidationError("--since and --base do not go together: --base exports the change since that time")
        }
    }

    public func execute(_ context: CLIContext) throws -> CommandOutput {
        let client = try connection.connect(context)
        defer { client.close() }
        let (bytes, summary) = try parseTime(base, option: "--base").map {
            try difference(client: client, baseUnixNanos: $0.unixNanos(now: context.nowUnixNanos), context: context)
        } ?? heap(client: client, context: context)

        let path = output ?? "\(host).pb.gz"
        if path == "-" {
            if context.standardOutputIsTerminal {
                throw CLIError.badArguments.with("refusing to write a binary profile to a terminal: use --output FILE or redirect")
            }
            return CommandOutput(standardOutput: bytes)
        }
        try OutputFile.write(bytes, to: path, context: context)
        return CommandOutput(text: "wrote \(path): \(summary), \(bytes.count) bytes (gzipped pprof)\n")
    }

    /// The live heap now, growth over `--since`.
    private func heap(client: CollectorClient, context: CLIContext) throws -> (bytes: [UInt8], summary: String) {
        let since = try parseSince(since)
        let windowStart = since?.startUnixNanos(now: context.nowUnixNanos) ?? 0
        let sites = try fetchSites(client: client, host: host, sinceUnixNanos: windowStart, limit: 100_000)
        guard !sites.isEmpty else {
            throw CLIError.noData.with("host '\(host)' has no sampled allocation site yet: nothing to export")
        }
        var builder = PprofBuilder(
            timeUnixNanos: context.nowUnixNanos,
            durationNanos: windowStart == 0 ? 0 : context.nowUnixNanos - windowStart)
        builder.comment("leakwatch heap profile of host \(host)")
        for site in SitesCommand.ordered(sites) { builder.add(site) }
        return (try builder.gzipped(), "\(sites.count) sites")
    }

    /// The change since `--base`: the newest snapshot against the base's.
    private func difference(client: CollectorClient, baseUnixNanos: Int64, context: CLIContext) throws
        -> (bytes: [UInt8], summary: String) {
        let diff = try fetchSiteDiff(client: client, host: host, fromUnixNanos: baseUnixNanos, toUnixNanos: 0, limit: 100_000)
        var builder = PprofBuilder(
            timeUnixNanos: diff.toSnapshotUnixNanos, durationNanos: diff.toSnapshotUnixNanos - diff.fromSnapshotUnixNanos,
            kind: .difference)
        builder.comment("leakwatch heap growth of host \(host) since \(Units.rfc3339(unixNanos: diff.fromSnapshotUnixNanos))")
        for change in diff.changes { builder.add(change) }
        let changed = "\(diff.changes.count) changed site" + (diff.changes.count == 1 ? "" : "s")
        return (try builder.gzipped(), changed + " since \(Units.rfc3339(unixNanos: diff.fromSnapshotUnixNanos))")
    }
}
