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
    private let address = Locked((bound: SocketAddress?, waiters: [CheckedContinuation<SocketAddress, Error>]) (nil, []))

    init(host: String, port: Int, exposition: MetricsExposition, group: any EventLoopGroup, threadPool: NIOThreadPool, logger: Logger) {
        self.host = host
        self.port = port
        self.exposition = exposition
        self.group = group
        self.threadPool = threadPool
        self.logger = logger
    }

    /// The address metrics are served on, once bound (port 0 resolved).
    public func boundAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let ready = address.withLock { state -> SocketAddress? in
                if let bound = state.bound { return bound }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    public func run() async throws {
        let channel: Channel
        do {
            channel = try await makeBootstrap().bind(host: host, port: port).get()
        } catch {
            let failure = ConfigurationError("cannot serve metrics on \(host):\(port) (metricsListen): \(error)")
            address.withLock { state in
                state.waiters.forEach { $0.resume(throwing: failure) }
                state.waiters = []
            }
            throw failure
        }
        let bound = channel.localAddress!
        let waiters = address.withLock { state in
            state.bound = bound
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume(returning: bound) }
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
