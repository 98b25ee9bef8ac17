import ArgumentParser
import LeakWire

/// Where the collector is and how to prove we may ask it: shared by every subcommand.
public struct ConnectionOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("collector"), help: ArgumentHelp(
        "Collector address host:port (default: $LEAKWATCH_COLLECTOR, else 127.0.0.1:7070).", valueName: "host:port"))
    public var collector: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp(
        "File holding the fleet token (default: $LEAKWATCH_TOKEN_FILE, else the value of $LEAKWATCH_TOKEN).",
        valueName: "path"))
    public var tokenFile: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp(
        "Speak TLS 1.3 to the collector, whose certificate this CA signed (default: $LEAKWATCH_TLS_CA; none: plaintext).",
        valueName: "path"))
    public var tlsCertificateAuthority: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "Client certificate for a collector with mutual TLS (default: $LEAKWATCH_TLS_CERT).", valueName: "path"))
    public var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp(
        "Private key of --tls-cert (default: $LEAKWATCH_TLS_KEY).", valueName: "path"))
    public var tlsPrivateKey: String?

    public init() {}

    func connect(_ context: CLIContext) throws -> CollectorClient {
        try CollectorClient(context: context, collectorOption: collector, tokenFileOption: tokenFile, tls: tls(context))
    }

    func tls(_ context: CLIContext) throws -> TLSClientContext? {
        try CollectorTLS.resolve(certificateAuthority: tlsCertificateAuthority, certificate: tlsCertificate,
                                 privateKey: tlsPrivateKey, context: context)
    }
}

/// Text for people, JSON for programs (docs/CLI.md).
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
}

/// The formats of the commands that also draw a page (report, hosts): html is one
/// self-contained file for a ticket or a browser.
public enum DocumentFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
    case html
}

/// A subcommand whose work is a function of its arguments and a context, so tests call it
/// without spawning the binary.
public protocol CLICommand: ParsableCommand {
    func execute(_ context: CLIContext) throws -> CommandOutput
}

extension CLICommand {
    public mutating func run() throws {
        // Only used when a command is run through ArgumentParser's own main(); collector-cli's
        // @main goes through CollectorCLI.run(arguments:context:).
        let output = try execute(.process())
        print(output.text, terminator: "")
    }
}

/// `--since`: parsed early so a bad duration is a bad-arguments error before any connection.
func parseSince(_ text: String?) throws -> SinceArgument? {
    try text.map(SinceArgument.init(parsing:))
}

/// The host name checks shared by report, sites and export.
func validateHostName(_ host: String) throws {
    guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0.isNewline }) else {
        throw ValidationError("--host '\(host)' is not a host name: give the name an agent reports as, e.g. --host web-3")
    }
}
