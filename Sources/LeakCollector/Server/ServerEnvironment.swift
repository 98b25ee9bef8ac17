import LeakWire
import Logging
import NIOPosix

/// What every connection handler shares: the store, its writer, the query service and the
/// thread pool that runs blocking database reads off the event loops.
struct ServerEnvironment: Sendable {
    var configuration: CollectorConfiguration
    var store: CollectorStore
    var writer: BatchWriter
    var queries: QueryService
    var threadPool: NIOThreadPool
    var logger: Logger
    var collectorVersion: String

    var handshakeConfiguration: ServerHandshake.Configuration {
        ServerHandshake.Configuration(token: configuration.token ?? [], collectorVersion: collectorVersion)
    }
}
