import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves `GET /metrics` on its own port (`metricsListen`) over NIO's HTTP/1 server pipeline.
///
/// ```
///  run() ──bind──▶ listening ──graceful shutdown──▶ closed
/// ```
public final class MetricsServer: Service, Sendable {
    let host: String
    let port: Int
    let exposition: MetricsExposition
    let group: any EventLoopGroup
    let threadPool: NIOThreadPool
    let logger: Logger
    /// The bind's outcome once known (kept: a caller may ask after a failure), and who waits for it.
    private let address = Locked((outcome: Result<SocketAddress, Error>?, waiters: [CheckedContinuation<SocketAddress, Error>]) (nil, []))

    init(host: String, port: Int, exposition: MetricsExposition, group: any EventLoopGroup, threadPool: NIOThreadPool, logger: Logger) {
        self.host = host
        self.port = port
        self.exposition = exposition
        self.group = group
        self.threadPool = threadPool
        self.logger = logger
    }

    /// The address metrics are served on, once bound (port 0 resolved); throws when it cannot bind.
    public func boundAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let ready = address.withLock { state -> Result<SocketAddress, Error>? in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    private func settle(_ outcome: Result<SocketAddress, Error>) {
        let waiters = address.withLock { state in
            state.outcome = outcome
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume(with: outcome) }
    }

    public func run() async throws {
        let channel: Channel
        do {
            channel = try await makeBootstrap().bind(host: host, port: port).get()
        } catch {
            let failure = ConfigurationError("cannot serve metrics on \(host):\(port) (metricsListen): \(error)")
            settle(.failure(failure))
            throw failure
        }
        let bound = channel.localAddress!
        settle(.success(bound))
        logger.info("serving metrics", metadata: ["leak.address": "\(bound)", "leak.path": "/metrics"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    private func makeBootstrap() -> ServerBootstrap {
        let exposition = exposition, threadPool = threadPool, logger = logger
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsHTTPHandler(exposition: exposition, threadPool: threadPool, logger: logger))
                }
            }
    }
}
