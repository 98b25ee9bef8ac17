import Foundation
import LeakWire
import Logging
import NIOPosix
import NIOSSL

/// What every connection handler shares: the store, its writer, the query service, the
/// thread pool that runs blocking database reads off the event loops, and the health metrics.
struct ServerEnvironment: Sendable {
    var configuration: CollectorConfiguration
    var store: any FleetStore
    var writer: BatchWriter
    var queries: QueryService
    var threadPool: NIOThreadPool
    var logger: Logger
    var collectorVersion: String
    /// TLS around every connection's frames; nil: plaintext.
    var tlsContext: NIOSSLContext?
    var metrics: CollectorMetrics
    /// The collector's clock, unix nanoseconds: a snapshot's receipt time, and what its timestamp
    /// (and its process's start, in Hello) may not be far ahead of.
    var nowUnixNanos: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1e9) }

    var handshakeConfiguration: ServerHandshake.Configuration {
        ServerHandshake.Configuration(
            authentication: authentication, collectorVersion: collectorVersion,
            requiresCertifiedHostName: configuration.tls?.isMutual == true,
            limits: configuration.snapshotLimits, nowUnixNanos: nowUnixNanos)
    }

    /// The token's proof when there is a token; without one, mutual TLS's certificates are the
    /// authentication (`validate()` allows no other way to have none but `insecureNoAuthentication`).
    private var authentication: ServerHandshake.Authentication {
        if configuration.insecureNoAuthentication { return .acceptAnyProof }
        return configuration.token.map { .token($0) } ?? .acceptAnyProof
    }
}
