import Foundation
import LeakWire
import NIOCore

/// Everything `collector` can be told. Every field has a documented default; a JSON
/// configuration file (collector/collector.example.json) may set any subset of them, and
/// command-line flags override the file.
public struct CollectorConfiguration: Sendable, Equatable {
    /// Address to listen on. Default "0.0.0.0".
    public var listenHost: String = "0.0.0.0"
    /// TCP port. Default 7070; 0 picks a free port (tests).
    public var listenPort: Int = 7070
    /// Directory holding leakwatch.sqlite (created if missing). Default "./leakwatch-data".
    public var dataDirectory: String = "./leakwatch-data"
    /// The fleet token every agent and client proves it knows (HMAC challenge-response).
    /// `nil` refuses every connection unless `insecureNoAuthentication` is set.
    public var token: [UInt8]?
    /// Accept peers without checking their proof. Only for a trusted network or a demo;
    /// the collector logs a warning at start. Default false.
    public var insecureNoAuthentication: Bool = false
    /// TLS 1.3 around the same framing, and with a client CA mutual TLS; nil (the default) listens
    /// in plaintext. docs/OPERATIONS.md says when to use which.
    public var tls: CollectorTLSConfiguration?
    /// A connection that completes no frame for this long is closed, before and after the
    /// handshake (while the collector owes it an answer the clock waits). Bytes that trickle in
    /// without finishing a frame do not count: a peer dribbling a byte every few seconds is
    /// closed too. Default 120 s: an agent sends a snapshot every 10 s, and even a maximal
    /// 4 MiB frame completes within it on a link of 35 KB/s (a real snapshot, a few hundred KiB,
    /// on one of 3 KB/s).
    public var idleTimeoutSeconds: Double = 120
    /// Most bytes all connections together may hold in partial frames. A connection that holds
    /// part of a frame stops being read while the total is above this (NIO back-pressure: TCP
    /// slows its peer) until frames complete or connections close; a connection holding nothing
    /// always reads, so good agents are served while hostile ones park. The total can pass it
    /// by one read batch (up to 512 KiB) per connection. Default 64 MiB: a thousand agents each
    /// mid-way through a 64 KiB snapshot.
    public var inboundBufferBudgetBytes: Int = 64 << 20
    /// The handshake must finish within this. Default 10 s.
    public var handshakeTimeoutSeconds: Double = 10
    /// A connection stops being read while this many of its snapshots wait for their commit.
    /// Default 256.
    public var maximumPendingSnapshotsPerConnection: Int = 256
    /// Most stacks one connection may define (its interning table). Default 200,000.
    public var maximumStacksPerConnection: Int = 200_000
    /// Most simultaneous connections. One more is sent an Error frame (INTERNAL, "at its limit
    /// of N connections; reconnect later") and closed at once, with a warning logged. Default
    /// 10,000 (raise the service's open-file limit to match).
    public var maximumConnections: Int = 10_000
    /// Frame and inflate limits. Default `WireLimits.default` (4 MiB frames, 16 MiB inflated, ratio 256).
    public var wireLimits: WireLimits = .default
    /// What every Snapshot field must keep (docs/PROTOCOL.md, "Validation"): counters at most
    /// 2^56, finite non-negative floats, timestamps from 2020 to 5 minutes ahead of this clock,
    /// strings of at most 16 KiB, stacks of at most 256 frames. A snapshot breaking one is rejected
    /// alone (MALFORMED_MESSAGE naming the field); the agent drops it.
    public var snapshotLimits: SnapshotLimits = .default
    /// Most snapshots per write transaction. Default 4096.
    public var maximumSnapshotsPerTransaction: Int = 4096
    /// Where the data lives: `.sqlite` (the default, in `dataDirectory`) or a PostgreSQL database
    /// that several collectors share (docs/OPERATIONS.md, "PostgreSQL").
    public var storeLocation: StoreLocation = .sqlite
    /// Retention and rollups.
    public var store: StoreConfiguration = .init()
    /// How often every host's verdict is recomputed. Default 60 s; 0 disables.
    public var verdictIntervalSeconds: Double = 60
    /// How much history a verdict looks at. Default 48 h, the analysis' own window: the day-over-day
    /// comparison needs a day plus its span, and with 24 h a leak riding a daily cycle never got
    /// past `growing` (end to end on scoring seeds 1001–1008: 0 of 8 flagged; raw snapshots are kept
    /// 48 h, so the window reads raw data only).
    public var verdictWindowSeconds: Double = 48 * 3600
    /// How often retention and rollups run. Default 300 s; 0 disables.
    public var retentionIntervalSeconds: Double = 300
    /// Event loop threads. Default: one per core.
    public var eventLoopThreads: Int = System.coreCount
    /// A host with no snapshot for this long is shown as stale. Default 60 s.
    public var staleAfterSeconds: Double = 60

    /// Where `GET /metrics` (Prometheus text format) is served, "HOST:PORT"; nil (the default)
    /// serves no metrics. Its own port, so a scraper never shares the agents' listener.
    public var metricsListen: String?
    /// The alert hook: run when a host's status changes or a memory-safety error arrives, with a
    /// JSON document on stdin (docs/OPERATIONS.md, "Alert hook"). Default nil: no hook.
    public var alerts = AlertHookConfiguration()

    /// Divides every duration the verdicts use (windows, buckets, grace periods) by this factor.
    /// 1 in production; the demo uses 360 so a minute of snapshots reads like six hours.
    public var analysisTimeScale: Double = 1

    public init() {}

    /// The database file inside `dataDirectory`.
    public var databasePath: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("leakwatch.sqlite").path
    }
}

extension CollectorConfiguration {
    /// The keys a configuration file may hold; all optional.
    struct File: Decodable {
        var listen: String?
        var dataDirectory: String?
        var store: String?
        var tokenFile: String?
        var insecureNoAuthentication: Bool?
        var tlsCertificateFile: String?
        var tlsKeyFile: String?
        var tlsClientCAFile: String?
        var idleTimeoutSeconds: Double?
        var inboundBufferBudgetBytes: Int?
        var handshakeTimeoutSeconds: Double?
        var maximumPendingSnapshotsPerConnection: Int?
        var maximumStacksPerConnection: Int?
        var maximumConnections: Int?
        var maximumFrameBodyBytes: Int?
        var maximumInflatedBodyBytes: Int?
        var maximumInflateRatio: Int?
        var maximumSnapshotsPerTransaction: Int?
        var maximumClockSkewSeconds: Double?
        var rawRetentionHours: Double?
        var minuteRollupRetentionDays: Double?
        var hourRollupRetentionDays: Double?
        var synchronousFull: Bool?
        var verdictIntervalSeconds: Double?
        var verdictWindowHours: Double?
        var retentionIntervalSeconds: Double?
        var eventLoopThreads: Int?
        var staleAfterSeconds: Double?
        var analysisTimeScale: Double?
        var metricsListen: String?
        var alertCommand: String?
        var alertTimeoutSeconds: Double?
        var alertQueueCapacity: Int?
        var reportCommand: String?
    }

    /// Applies a JSON configuration file over the current values. Relative paths in the file
    /// are relative to the file's directory.
    public mutating func apply(configurationFile path: String) throws {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw ConfigurationError("configuration file \(path) is not valid: \(error); see collector/collector.example.json")
        }
        let base = url.deletingLastPathComponent()
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base.appendingPathComponent(p).path }
        if let listen = file.listen { try setListen(listen) }
        if let v = file.dataDirectory { dataDirectory = resolve(v) }
        if let v = file.store { storeLocation = try StoreLocation(parsing: v) }
        if let v = file.tokenFile { try loadToken(fromFile: resolve(v)) }
        if let v = file.insecureNoAuthentication { insecureNoAuthentication = v }
        try setTLS(certificateFile: file.tlsCertificateFile.map(resolve), keyFile: file.tlsKeyFile.map(resolve),
                   clientCAFile: file.tlsClientCAFile.map(resolve))
        if let v = file.idleTimeoutSeconds { idleTimeoutSeconds = v }
        if let v = file.inboundBufferBudgetBytes { inboundBufferBudgetBytes = v }
        if let v = file.handshakeTimeoutSeconds { handshakeTimeoutSeconds = v }
        if let v = file.maximumPendingSnapshotsPerConnection { maximumPendingSnapshotsPerConnection = v }
        if let v = file.maximumStacksPerConnection { maximumStacksPerConnection = v }
        if let v = file.maximumConnections { maximumConnections = v }
        if let v = file.maximumFrameBodyBytes { wireLimits.maximumFrameBodyBytes = v }
        if let v = file.maximumInflatedBodyBytes { wireLimits.maximumInflatedBodyBytes = v }
        if let v = file.maximumInflateRatio { wireLimits.maximumInflateRatio = v }
        if let v = file.maximumSnapshotsPerTransaction { maximumSnapshotsPerTransaction = v }
        if let v = file.maximumClockSkewSeconds { snapshotLimits.maximumFutureSkewSeconds = v }
        if let v = file.rawRetentionHours { store.rawRetentionSeconds = Int64(v * 3600) }
        if let v = file.minuteRollupRetentionDays { store.minuteRetentionSeconds = Int64(v * 86400) }
        if let v = file.hourRollupRetentionDays { store.hourRetentionSeconds = Int64(v * 86400) }
        if let v = file.synchronousFull { store.synchronousFull = v }
        if let v = file.verdictIntervalSeconds { verdictIntervalSeconds = v }
        if let v = file.verdictWindowHours { verdictWindowSeconds = v * 3600 }
        if let v = file.retentionIntervalSeconds { retentionIntervalSeconds = v }
        if let v = file.eventLoopThreads { eventLoopThreads = v }
        if let v = file.staleAfterSeconds { staleAfterSeconds = v }
        if let v = file.analysisTimeScale { analysisTimeScale = v }
        if let v = file.metricsListen { metricsListen = v }
        if let v = file.alertCommand { alerts.command = resolve(v) }
        if let v = file.alertTimeoutSeconds { alerts.timeoutSeconds = v }
        if let v = file.alertQueueCapacity { alerts.queueCapacity = v }
        if let v = file.reportCommand { alerts.reportCommand = v }
    }

    /// Parses "HOST:PORT" (IPv6 as "[::1]:7070").
    public mutating func setListen(_ value: String) throws {
        (listenHost, listenPort) = try Self.hostAndPort(value, example: "0.0.0.0:7070")
    }

    /// "HOST:PORT" split; an empty host is "0.0.0.0".
    static func hostAndPort(_ value: String, example: String) throws -> (host: String, port: Int) {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
              (0...65535).contains(port)
        else {
            throw ConfigurationError("listen address '\(value)' is not HOST:PORT, e.g. \(example)")
        }
        var host = String(value[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Sets whichever TLS files are given over the current ones. A certificate and its key go
    /// together; a client CA needs them (see `validate()`).
    public mutating func setTLS(certificateFile: String?, keyFile: String?, clientCAFile: String?) throws {
        guard certificateFile != nil || keyFile != nil || clientCAFile != nil else { return }
        var settings = tls ?? CollectorTLSConfiguration(certificateChainFile: "", privateKeyFile: "")
        if let certificateFile { settings.certificateChainFile = certificateFile }
        if let keyFile { settings.privateKeyFile = keyFile }
        if let clientCAFile { settings.clientCAFile = clientCAFile }
        tls = settings
    }

    /// Reads the fleet token: the file's contents with surrounding whitespace removed.
    public mutating func loadToken(fromFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read token file \(path); create it with e.g. `head -c 32 /dev/urandom | base64 > \(path)`")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ConfigurationError("token file \(path) is empty") }
        token = Array(text.utf8)
    }

    /// Checks the configuration can run.
    public func validate() throws {
        if token == nil && !insecureNoAuthentication && tls?.clientCAFile == nil {
            throw ConfigurationError(
                "no fleet token: pass --token-file FILE (the same token the agents use), --tls-client-ca FILE to authenticate peers by their certificates, or --insecure-no-auth to accept unauthenticated peers on a trusted network")
        }
        if let tls {
            if tls.certificateChainFile.isEmpty || tls.privateKeyFile.isEmpty {
                throw ConfigurationError(
                    "TLS needs both a certificate and its private key: pass --tls-cert FILE and --tls-key FILE (tlsCertificateFile and tlsKeyFile in the configuration file)")
            }
        }
        if maximumPendingSnapshotsPerConnection < 1 { throw ConfigurationError("maximumPendingSnapshotsPerConnection must be at least 1") }
        if !(idleTimeoutSeconds > 0) { throw ConfigurationError("idleTimeoutSeconds must be greater than 0") }
        if inboundBufferBudgetBytes < 1 { throw ConfigurationError("inboundBufferBudgetBytes must be at least 1") }
        if maximumConnections < 1 { throw ConfigurationError("maximumConnections must be at least 1") }
        if !(analysisTimeScale > 0) { throw ConfigurationError("analysisTimeScale must be greater than 0") }
        if eventLoopThreads < 1 { throw ConfigurationError("eventLoopThreads must be at least 1") }
        if let metricsListen { _ = try Self.hostAndPort(metricsListen, example: "127.0.0.1:9464") }
        try alerts.validate()
    }
}

/// The configuration cannot be used; the message says what to change.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
