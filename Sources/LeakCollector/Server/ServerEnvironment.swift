import Foundation
import LeakWire
import Logging
import NIOPosix

/// What every connection handler shares: the store, its writer, the query service, the
/// thread pool that runs blocking database reads off the event loops, and the health metrics.
struct ServerEnvironment: Sendable {
    var configuration: CollectorConfiguration
    var store: CollectorStore
    var writer: BatchWriter
    var queries: QueryService
    var threadPool: NIOThreadPool
    var logger: Logger
    var collectorVersion: String
    var metrics: CollectorMetrics
    /// The collector's clock, unix nanoseconds: a snapshot's receipt time, and what its timestamp
    /// may not be far ahead of.
    var nowUnixNanos: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1e9) }

    var handshakeConfiguration: ServerHandshake.Configuration {
        ServerHandshake.Configuration(
            authentication: configuration.insecureNoAuthentication ? .acceptAnyProof : .token(configuration.token ?? []),
            collectorVersion: collectorVersion)
    }
}
