import ArgumentParser
import Foundation
import LeakCollector
import Logging

/// `collector [serve] --listen 0.0.0.0:7070 --data ./leakwatch-data --token-file /etc/leakwatch/token`,
/// and `collector migrate` (MigrateCommand.swift).
@main
struct CollectorMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Leakwatch collector: receives agent snapshots, stores them in SQLite or PostgreSQL, judges leaks, answers queries.",
        subcommands: [CollectorCommand.self, MigrateCommand.self],
        defaultSubcommand: CollectorCommand.self)
}

/// Serves agents and clients: the default subcommand.
struct CollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive the agents' snapshots, judge leaks and answer queries (what `collector` alone does).",
        discussion: """
            Flags override the configuration file. Without --token-file (or tokenFile in the \
            configuration file) every connection is refused unless --tls-client-ca or \
            --insecure-no-auth is given. --tls-cert and --tls-key put the same frames inside TLS 1.3 \
            on the same port (docs/OPERATIONS.md). \
            SIGTERM or SIGINT stops accepting, finishes in-flight writes and closes the database. \
            Log level from LOG_LEVEL (trace, debug, info, notice, warning, error, critical; default info).
            """)

    @Option(name: .long, help: "Address to listen on, HOST:PORT (default 0.0.0.0:7070).")
    var listen: String?

    @Option(name: .customLong("data"), help: "Data directory holding leakwatch.sqlite (default ./leakwatch-data).")
    var dataDirectory: String?

    @Option(name: .long, help: "Where the data lives: sqlite (default, in --data) or postgres://USER@HOST:PORT/DATABASE, which several collectors share.")
    var store: String?

    @Option(name: .long, help: "File holding the fleet token agents and clients authenticate with.")
    var tokenFile: String?

    @Option(name: .customLong("config"), help: "JSON configuration file (see collector/collector.example.json).")
    var configurationFile: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve TLS 1.3 on the same port (with --tls-key).")
    var tlsCertificateFile: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKeyFile: String?

    @Option(name: .customLong("tls-client-ca"), help: "PEM CA: peers must present a certificate it signed (mutual TLS); an agent reports only as the host its certificate names.")
    var tlsClientCAFile: String?

    @Option(name: .long, help: "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (default: off).")
    var metricsListen: String?

    @Option(name: .long, help: "Program run with a JSON document on stdin when a host's status changes or a memory error arrives.")
    var alertCommand: String?

    @Flag(name: .customLong("insecure-no-auth"), help: "Accept peers without authentication (trusted networks only).")
    var insecureNoAuthentication = false

    func run() async throws {
        var configuration = CollectorConfiguration()
        if let configurationFile { try configuration.apply(configurationFile: configurationFile) }
        if let listen { try configuration.setListen(listen) }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        if let store { configuration.storeLocation = try StoreLocation(parsing: store) }
        if let tokenFile { try configuration.loadToken(fromFile: tokenFile) }
        try configuration.setTLS(certificateFile: tlsCertificateFile, keyFile: tlsKeyFile, clientCAFile: tlsClientCAFile)
        if insecureNoAuthentication { configuration.insecureNoAuthentication = true }
        if let metricsListen { configuration.metricsListen = metricsListen }
        if let alertCommand { configuration.alerts.command = alertCommand }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
            return handler
        }
        let collector: Collector
        do {
            collector = try buildCollector(configuration, logger: Logger(label: "leakwatch.collector"))
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        try await collector.run()
    }
}
