import LeakWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ServiceLifecycle

/// The TCP listener. On graceful shutdown it stops accepting, lets every connection finish
/// the snapshots it has in flight (each is committed and acked), closes them, then drains the
/// batch writer and closes the store.
///
/// ```
///  .idle ──run()──▶ .listening(channel) ──graceful shutdown──▶ .draining ──▶ .stopped
/// ```
public final class CollectorServer: Service, Sendable {
    private enum State {
        case idle
        case listening(Channel)
        case draining
        case stopped
    }

    let environment: ServerEnvironment
    let group: any EventLoopGroup
    private let state = Locked(State.idle)
    private let children = Locked([ObjectIdentifier: Channel]())
    /// Bytes all connections hold in partial frames (`inboundBufferBudgetBytes`).
    let inboundBudget: InboundByteBudget
    private let addressWaiters = Locked((address: SocketAddress?, waiters: [CheckedContinuation<SocketAddress, Error>]) (nil, []))
    /// Longest wait for connections to finish their in-flight snapshots at shutdown.
    let drainTimeout: TimeAmount = .seconds(15)

    init(environment: ServerEnvironment, group: any EventLoopGroup) {
        self.environment = environment
        self.group = group
        self.inboundBudget = InboundByteBudget(limitBytes: environment.configuration.inboundBufferBudgetBytes)
    }

    /// The address the server listens on, once it does (port 0 resolved).
    public func boundAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { continuation in
            let ready = addressWaiters.withLock { state -> SocketAddress? in
                if let address = state.address { return address }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Connections currently open.
    public var connectionCount: Int { children.withLock { $0.count } }

    public func run() async throws {
        let logger = environment.logger
        let configuration = environment.configuration
        let channel: Channel
        do {
            channel = try await makeBootstrap().bind(host: configuration.listenHost, port: configuration.listenPort).get()
        } catch {
            let failure = ConfigurationError("cannot listen on \(configuration.listenHost):\(configuration.listenPort): \(error)")
            addressWaiters.withLock { state in
                state.waiters.forEach { $0.resume(throwing: failure) }
                state.waiters = []
            }
            await closeStorage()
            throw failure
        }
        state.withLock { $0 = .listening(channel) }
        let address = channel.localAddress!
        let waiters = addressWaiters.withLock { state in
            state.address = address
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume(returning: address) }
        logger.info("collector listening", metadata: [
            "leak.address": "\(address)", "leak.database": "\(environment.store.location)",
            "leak.transport": "\(configuration.tls.map { $0.isMutual ? "mutual TLS 1.3" : "TLS 1.3" } ?? "plaintext")",
        ])

        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        state.withLock { $0 = .draining }
        logger.info("collector stopping: draining connections")
        await drainConnections()
        await closeStorage()
        state.withLock { $0 = .stopped }
        logger.info("collector stopped")
    }

    private func makeBootstrap() -> ServerBootstrap {
        let environment = self.environment
        let configuration = environment.configuration
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 8)
            .childChannelInitializer { [self] channel in
                let accepted = children.withLock { children -> Bool in
                    guard children.count < configuration.maximumConnections else { return false }
                    children[ObjectIdentifier(channel)] = channel
                    return true
                }
                guard accepted else { return refuse(channel) }
                let account = inboundBudget.openAccount()
                channel.closeFuture.whenComplete { [self] _ in
                    _ = children.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
                    account.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let peer = channel.remoteAddress.map { "\($0)" } ?? "unknown"
                    let pipeline = channel.pipeline.syncOperations
                    if let tlsContext = environment.tlsContext {
                        var logger = environment.logger
                        logger[metadataKey: "leak.peer"] = "\(peer)"
                        try pipeline.addHandlers([
                            NIOSSLServerHandler(context: tlsContext),
                            TLSPeerHandler(isMutual: configuration.tls?.isMutual == true, logger: logger),
                        ])
                    }
                    try pipeline.addHandlers([
                        ByteToMessageHandler(WireFrameDecoder(limits: configuration.wireLimits, account: account)),
                        CollectorConnectionHandler(environment: environment, peer: peer, account: account),
                    ])
                }
            }
    }

    /// One connection beyond `maximumConnections`: logged, told why in an Error frame, closed.
    private func refuse(_ channel: Channel) -> EventLoopFuture<Void> {
        let maximum = environment.configuration.maximumConnections
        environment.logger.warning("refusing connection: the collector is at maximumConnections", metadata: [
            "leak.peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
            "leak.maximumConnections": "\(maximum)",
        ])
        var error = Leakwatch_V1_Error()
        error.code = .internal
        error.message = "the collector is at its limit of \(maximum) connections (maximumConnections); reconnect later"
        let frame = (try? FrameEncoder().encode(.error(error))) ?? []
        let tlsContext = environment.tlsContext
        let handshakeTimeout = TimeAmount.milliseconds(Int64(environment.configuration.handshakeTimeoutSeconds * 1000))
        return channel.eventLoop.makeCompletedFuture {
            // Under TLS the Error frame goes inside it, once its handshake is done: a TLS peer
            // would read a plaintext frame as a broken TLS record.
            if let tlsContext {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
            }
            try channel.pipeline.syncOperations.addHandler(RefusedConnectionHandler(
                frame: frame, afterTLSHandshake: tlsContext != nil, handshakeTimeout: handshakeTimeout))
        }
    }

    /// Asks every connection to finish its in-flight work and close; force-closes stragglers.
    private func drainConnections() async {
        let open = children.withLock { Array($0.values) }
        for child in open {
            child.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let deadline = NIODeadline.now() + drainTimeout
        while connectionCount > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let stragglers = children.withLock { Array($0.values) }
        for child in stragglers {
            environment.logger.warning("closing connection that did not drain in time")
            try? await child.close()
        }
    }

    private func closeStorage() async {
        await environment.writer.close()
        do {
            try environment.store.close()
        } catch {
            environment.logger.error("closing the database failed", metadata: ["leak.error": "\(error)"])
        }
    }
}

/// The whole pipeline of a refused connection (after TLS's handler, under TLS): once it is active,
/// or its TLS handshake done, the Error frame, then close. A TLS handshake that fails or does not
/// finish within the handshake timeout just closes.
private final class RefusedConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let frame: [UInt8]
    let afterTLSHandshake: Bool
    let handshakeTimeout: TimeAmount

    init(frame: [UInt8], afterTLSHandshake: Bool, handshakeTimeout: TimeAmount) {
        self.frame = frame
        self.afterTLSHandshake = afterTLSHandshake
        self.handshakeTimeout = handshakeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if afterTLSHandshake {
            let channel = context.channel
            context.eventLoop.scheduleTask(in: handshakeTimeout) { channel.close(promise: nil) }
        } else if context.channel.isActive {
            refuse(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !afterTLSHandshake { refuse(context: context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if afterTLSHandshake, let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            refuse(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: frame)), promise: nil)
        context.close(promise: nil)
    }
}
