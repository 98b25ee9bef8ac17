import ArgumentParser

/// The root command: `collector-cli <subcommand>`.
public struct CollectorCLI: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "collector-cli",
        abstract: "Ask a Leakwatch collector which hosts leak memory, where, and how fast.",
        discussion: """
            Connection: --collector host:port (default $LEAKWATCH_COLLECTOR, else 127.0.0.1:7070);
            token from --token-file, $LEAKWATCH_TOKEN_FILE or $LEAKWATCH_TOKEN. Both go before or
            after the subcommand.

            Exit codes: 0 ok, 1 internal error, 2 bad arguments, 3 unknown host, 4 no data yet,
            5 collector unreachable, 6 authentication refused, 7 collector error, 8 cannot write output.

            Examples:
              collector-cli hosts
              collector-cli report --host web-3 --since 6h
              collector-cli sites --host web-3
              collector-cli diff --host web-3 --from 6h
              collector-cli errors
              collector-cli export --host web-3 --format pprof --output web-3.pb.gz
              collector-cli simulate recorded/web-3.csv.gz --sites web-3=recorded/web-3.sites.csv
            """,
        version: version,
        subcommands: [ReportCommand.self, HostsCommand.self, SitesCommand.self, DiffCommand.self, ErrorsCommand.self,
                      ExportCommand.self, SimulateCommand.self])

    public init() {}

    /// Result of one invocation: what to print where, and the exit status.
    public struct Invocation: Sendable {
        public var standardOutput: [UInt8]
        public var standardError: String
        public var exitCode: Int32

        public var text: String { String(decoding: standardOutput, as: UTF8.self) }
    }

    /// Parses `arguments` (without the program name), runs the subcommand, maps every failure
    /// to its exit code. The binary's @main is this plus printing.
    public static func run(arguments: [String], context: CLIContext) -> Invocation {
        let runnable: CLICommand
        do {
            let subcommandNames = Set(configuration.subcommands.compactMap { $0.configuration.commandName })
            var command = try parseAsRoot(ArgumentNormalization.normalized(arguments, subcommands: subcommandNames))
            guard let subcommand = command as? CLICommand else {
                // `--help`, `help report`, or a bare `collector-cli`: ArgumentParser's own
                // commands, which end by throwing the help text as a clean exit.
                try command.run()
                return Invocation(standardOutput: [], standardError: "", exitCode: 0)
            }
            runnable = subcommand
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error, columns: 100)
            if code == .success {  // --help, --version
                return Invocation(standardOutput: Array((message + "\n").utf8), standardError: "", exitCode: 0)
            }
            return Invocation(standardOutput: [], standardError: message + "\n", exitCode: CLIExitCode.badArguments)
        }
        do {
            let output = try runnable.execute(context)
            return Invocation(standardOutput: output.standardOutput, standardError: "", exitCode: output.exitCode)
        } catch let error as CLIError {
            return Invocation(standardOutput: [], standardError: "error: \(error.message)\n", exitCode: error.exitCode)
        } catch {
            return Invocation(standardOutput: [], standardError: "error: \(error)\n", exitCode: CLIExitCode.internalError)
        }
    }
}
