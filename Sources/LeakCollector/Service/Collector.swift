import Foundation
import LeakWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A built collector: run `serviceGroup` (or `run()`); `server.boundAddress()` tells the port.
public struct Collector: Sendable {
    public let configuration: CollectorConfiguration
    public let store: any FleetStore
    public let writer: BatchWriter
    public let server: CollectorServer
    public let maintenance: MaintenanceService
    public let queries: QueryService
    /// The collector's health instruments (always counted; served when `metricsListen` is set).
    public let metrics: CollectorMetrics
    /// Serves `GET /metrics`; nil unless `metricsListen` is set.
    public let metricsServer: MetricsServer?
    /// Runs `alerts.command`; nil unless it is set.
    public let alertHook: AlertHook?
    /// Server first, maintenance second: graceful shutdown runs in reverse order, so
    /// maintenance stops, then the server drains connections and closes the store.
    public let serviceGroup: ServiceGroup
    let threads: CollectorThreads

    /// Runs until SIGTERM/SIGINT (when built with `handleSignals`) or `triggerGracefulShutdown()`.
    public func run() async throws {
        do {
            try await serviceGroup.run()
        } catch {
            await threads.shutdown()
            throw error
        }
        await threads.shutdown()
    }

    public func triggerGracefulShutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }
}

/// The collector's version, sent in Challenge.
public let collectorVersion = "0.1.0"

/// The store `configuration` names, opened and migrated.
public func openStore(_ configuration: CollectorConfiguration, logger: Logger) throws -> any FleetStore {
    switch configuration.storeLocation {
    case .sqlite:
        return try SQLiteStore(path: configuration.databasePath, configuration: configuration.store, logger: logger)
    case .postgres(let location):
        return try PostgresStore(location: location, configuration: configuration.store, logger: logger)
    }
}

/// Builds everything `collector` runs: opens (and migrates) the database, the batch writer,
/// the TCP server, the maintenance service, and the `ServiceGroup` tying them together.
///
/// - Parameters:
///   - configuration: validated with `validate()` first.
///   - handleSignals: graceful shutdown on SIGTERM and SIGINT (the executable); tests pass false.
///   - ownThreads: event loops and a thread pool of its own instead of NIO's singletons, for a
///     process that runs several collectors (see `CollectorThreads`).
public func buildCollector(
    _ configuration: CollectorConfiguration,
    logger: Logger = Logger(label: "leakwatch.collector"),
    handleSignals: Bool = true,
    ownThreads: Bool = false
) throws -> Collector {
    try configuration.validate()
    if configuration.storeLocation == .sqlite {
        do {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("cannot create data directory \(configuration.dataDirectory): \(error.localizedDescription)")
        }
    }
    if configuration.insecureNoAuthentication {
        logger.warning("authentication is disabled (--insecure-no-auth): any peer that can connect may send data and read reports")
    }
    let tlsContext = try configuration.tls?.makeServerContext()
    let metricsAddress = try configuration.metricsListen.map { try CollectorConfiguration.hostAndPort($0, example: "127.0.0.1:9464") }
    let store = try openStore(configuration, logger: logger)
    let metrics = CollectorMetrics()
    let alertHook = AlertHook(configuration: configuration.alerts, store: store, metrics: metrics, logger: logger)
    let writer = BatchWriter(
        store: store, maximumBatchSize: configuration.maximumSnapshotsPerTransaction, logger: logger, metrics: metrics, alerts: alertHook)
    let maintenance = MaintenanceService(store: store, configuration: configuration, logger: logger, metrics: metrics, alerts: alertHook)
    var queries = QueryService(store: store)
    queries.staleAfterSeconds = configuration.staleAfterSeconds
    queries.verdictLoop = { [interval = configuration.verdictIntervalSeconds] in (maintenance.latestVerdictPass, interval) }
    let threads = CollectorThreads(eventLoopThreads: configuration.eventLoopThreads, ownThreads: ownThreads)
    let environment = ServerEnvironment(
        configuration: configuration, store: store, writer: writer, queries: queries,
        threadPool: threads.threadPool, logger: logger, collectorVersion: collectorVersion,
        tlsContext: tlsContext, metrics: metrics)
    let server = CollectorServer(environment: environment, group: threads.group)
    let metricsServer = metricsAddress.map { host, port in
        let exposition = MetricsExposition(
            metrics: metrics, store: store, openConnections: { server.connectionCount },
            latestVerdictPass: { maintenance.latestVerdictPass }, verdictIntervalSeconds: configuration.verdictIntervalSeconds)
        return MetricsServer(host: host, port: port, exposition: exposition, group: threads.group, threadPool: threads.threadPool, logger: logger)
    }
    // The metrics server last: it stops first at shutdown, before the store it reads is closed.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: server),
        .init(service: maintenance, successTerminationBehavior: .ignore),
    ]
    // A metrics port it cannot bind shuts the collector down gracefully (store closed) and fails
    // its run: the server does not stop on cancellation, the group's default for a failed service.
    if let metricsServer { services.append(.init(service: metricsServer, failureTerminationBehavior: .gracefullyShutdownGroup)) }
    let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
        services: services,
        gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
        logger: logger))
    return Collector(
        configuration: configuration, store: store, writer: writer, server: server, maintenance: maintenance,
        queries: queries, metrics: metrics, metricsServer: metricsServer, alertHook: alertHook, serviceGroup: serviceGroup,
        threads: threads)
}
