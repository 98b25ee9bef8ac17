import Foundation
import LeakWire
import Logging
import NIOCore

/// One peer connection, after framing: the handshake, then an agent's snapshots (each acked
/// after its commit) or a client's queries.
///
/// ```
///  .handshaking ──Hello/Authenticate ok──▶ .welcoming (look up last committed sequence)
///       │                                      │
///       │ bad proof, wrong message,            ▼
///       │ timeout, framing error        .agent(translator) ── Snapshot ──▶ writer ──commit──▶ Ack
///       │                                      │  └─ breaks a validation rule ──▶ Error(MALFORMED, request_id =
///       │                                      │     sequence), connection stays open
///       ▼                               .client            ── *Request ──▶ thread pool ──▶ *Response
///   Error frame, close
/// ```
///
/// Backpressure: while `maximumPendingSnapshotsPerConnection` snapshots (or queries) wait,
/// or while the server's `InboundByteBudget` is spent and this connection holds part of a
/// frame, the handler withholds `read()`, so TCP flow control slows the peer down.
/// Idle: a connection that completes no frame for `idleTimeoutSeconds` (the collector owing
/// it nothing) is closed, so a peer trickling bytes cannot hold a connection and its buffer.
/// Errors close this connection only; they are logged with the peer and host.
/// Mutual TLS: `TLSPeerHandler` sends the client certificate's host name (`CertifiedPeer`) before
/// any frame, and the handshake holds an agent's Hello to it.
final class CollectorConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking(ServerHandshake)
        case welcoming
        case agent(SnapshotTranslator)
        case client
        case closed
    }

    private let environment: ServerEnvironment
    private var state: State
    private var logger: Logger
    private let encoder = FrameEncoder()
    private var context: ChannelHandlerContext?
    private var pendingWork = 0
    private var readWithheld = false
    private var quiescing = false
    private var flushScheduled = false
    private var handshakeTimeout: Scheduled<Void>?
    private let account: InboundByteBudget.Account?
    /// When the last frame completed (or the last answer went out); the idle clock.
    private var lastProgress = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(environment: ServerEnvironment, peer: String, account: InboundByteBudget.Account? = nil) {
        self.environment = environment
        self.account = account
        self.state = .handshaking(ServerHandshake(configuration: environment.handshakeConfiguration))
        var logger = environment.logger
        logger[metadataKey: "leak.peer"] = "\(peer)"
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let timeout = TimeAmount.milliseconds(Int64(environment.configuration.handshakeTimeoutSeconds * 1000))
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        handshakeTimeout = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.handshakeTimedOut()
        }
        lastProgress = .now()
        scheduleIdleCheck(at: lastProgress + idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimeout?.cancel()
        idleCheck?.cancel()
        self.context = nil
        state = .closed
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastProgress = .now()
        let message: WireMessage
        do {
            message = try WireMessage(frame)
        } catch {
            fail(error as? WireError ?? .malformedMessage)
            return
        }
        switch state {
        case .handshaking(var handshake):
            receiveDuringHandshake(message, handshake: &handshake)
        case .welcoming:
            fail(Self.errorFrame(.protocolViolation, "\(message.name) arrived before Welcome; wait for Welcome before sending"))
        case .agent(var translator):
            guard case .snapshot(let snapshot) = message else {
                return rejectUnexpected(message, role: "an agent", expected: "Snapshot")
            }
            do {
                let translation = try translator.translate(snapshot, receivedAtUnixNanos: environment.nowUnixNanos())
                state = .agent(translator)
                switch translation {
                case .accepted(let ingest):
                    submit(ingest, wireBytes: frame.wireByteCount)
                case .rejected(let violation):
                    // That snapshot only: the connection, and the snapshots after it, go on.
                    logger.warning("snapshot rejected", metadata: [
                        "leak.sequence": "\(violation.sequence)", "leak.field": "\(violation.field)",
                        "leak.error": "\(violation.detail)",
                    ])
                    environment.metrics.refusedFrame(violation.errorMessage.code)
                    send(.error(violation.errorMessage))
                }
            } catch {
                fail(Self.errorFrame(.malformedMessage, error.description))
            }
        case .client:
            guard QueryService.isRequest(message) else {
                return rejectUnexpected(message, role: "a client", expected: "a query request")
            }
            answer(message)
        case .closed:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let wireError = error as? WireError {
            fail(wireError)
        } else {
            logger.info("connection failed", metadata: ["leak.error": "\(error)"])
            close()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if pendingWork == 0 { closeForShutdown() }
        } else if let peer = event as? CertifiedPeer {
            // Mutual TLS verified the certificate before any frame: the handshake holds Hello to its name.
            guard case .handshaking(var handshake) = state else { return }
            handshake.certifyPeer(hostName: peer.hostName)
            state = .handshaking(handshake)
            logger[metadataKey: "leak.certifiedHost"] = "\(peer.hostName ?? "none")"
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: Outbound (backpressure)

    func read(context: ChannelHandlerContext) {
        if mayRead() {
            context.read()
        } else {
            readWithheld = true
        }
    }

    /// Whether to read now: not while too much work waits, not while stopping, and not while
    /// the budget is spent and this connection holds part of a frame (then the budget wakes
    /// it when there is room).
    private func mayRead() -> Bool {
        if pendingWork >= environment.configuration.maximumPendingSnapshotsPerConnection || quiescing { return false }
        guard let account, let context else { return true }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        return account.mayRead {
            eventLoop.execute { loopBound.value.resumeReadingIfAllowed() }
        }
    }

    private func resumeReadingIfAllowed() {
        guard readWithheld, let context, mayRead() else { return }
        readWithheld = false
        context.read()
    }

    // MARK: Idle

    private var idleTimeout: TimeAmount {
        .nanoseconds(Int64(environment.configuration.idleTimeoutSeconds * 1e9))
    }

    private func scheduleIdleCheck(at deadline: NIODeadline) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.checkIdle()
        }
    }

    /// One timer per connection, re-armed for the remaining time instead of per frame.
    private func checkIdle() {
        if case .closed = state { return }
        let now = NIODeadline.now()
        if pendingWork > 0 {
            // The collector owes this peer an answer: its silence is ours.
            lastProgress = now
        }
        let due = lastProgress + idleTimeout
        guard due <= now else { return scheduleIdleCheck(at: due) }
        logger.info("closing idle connection: no complete frame within idleTimeoutSeconds", metadata: [
            "leak.idleTimeoutSeconds": "\(environment.configuration.idleTimeoutSeconds)",
            "leak.readWithheld": "\(readWithheld)",
        ])
        close()
    }

    // MARK: Handshake

    /// The handshake decides (authentication policy included); this only carries out its action.
    private func receiveDuringHandshake(_ message: WireMessage, handshake: inout ServerHandshake) {
        switch handshake.receive(message) {
        case .send(let reply):
            state = .handshaking(handshake)
            send(reply)
        case .reject(let error):
            fail(error)
        case .authenticated(let hello, _):
            handshakeTimeout?.cancel()
            logger[metadataKey: "leak.host"] = "\(hello.hostName)"
            logger[metadataKey: "leak.role"] = "\(hello.role)"
            if hello.role == .client {
                state = .client
                send(handshake.welcome(lastAcknowledgedSequence: 0))
                logger.debug("client connected")
            } else {
                state = .welcoming
                welcomeAgent(hello: hello, handshake: handshake)
            }
        }
    }

    private func welcomeAgent(hello: Leakwatch_V1_Hello, handshake: ServerHandshake) {
        guard let context else { return }
        let identity = ProcessIdentity(
            hostName: hello.hostName, instanceKey: hello.processInstanceID.hexString, serviceName: hello.serviceName,
            processID: Int64(hello.pid), startedAtMs: hello.processStartUnixNanos / 1_000_000)
        let store = environment.store
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        environment.threadPool.runIfActive(eventLoop: context.eventLoop) {
            try store.resumePoint(hostName: identity.hostName, instanceKey: identity.instanceKey)
        }.whenComplete { result in
            let handler = loopBound.value
            guard case .welcoming = handler.state else { return }
            switch result {
            case .success(let (lastSequence, counters)):
                handler.state = .agent(SnapshotTranslator(
                    process: identity, maximumStacks: handler.environment.configuration.maximumStacksPerConnection,
                    pins: store.stackPins.lease(), limits: handler.environment.configuration.snapshotLimits,
                    processStartUnixNanos: hello.processStartUnixNanos, previous: counters))
                handler.send(handshake.welcome(lastAcknowledgedSequence: UInt64(lastSequence)))
                handler.logger.debug("agent connected", metadata: ["leak.lastSequence": "\(lastSequence)"])
            case .failure(let error):
                handler.logger.error("cannot look up agent's last sequence", metadata: ["leak.error": "\(error)"])
                handler.close(after: Self.errorFrame(.internal, "the collector cannot read its database; retry later"))
            }
        }
    }

    private func handshakeTimedOut() {
        guard case .handshaking = state else { return }
        fail(Self.errorFrame(.handshakeTimeout,
                             "handshake not finished within \(environment.configuration.handshakeTimeoutSeconds) s"))
    }

    // MARK: Snapshots

    private func submit(_ snapshot: SnapshotIngest, wireBytes: Int) {
        guard let context else { return }
        pendingWork += 1
        let sequence = snapshot.sequence
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let metrics = environment.metrics
        environment.writer.submit(snapshot) { result in
            if case .success(.stored) = result { metrics.ingestedBytes.increment(by: Int64(wireBytes)) }
            eventLoop.execute { loopBound.value.committed(sequence: sequence, result: result) }
        }
    }

    private func committed(sequence: Int64, result: Result<IngestOutcome, any Error>) {
        pendingWork -= 1
        guard case .agent = state else { return }
        switch result {
        case .success:
            var ack = Leakwatch_V1_Ack()
            ack.sequence = UInt64(sequence)
            send(.ack(ack), flush: false)
            scheduleFlush()
        case .failure(let error):
            logger.error("snapshot not stored", metadata: ["leak.sequence": "\(sequence)", "leak.error": "\(error)"])
            close(after: error as? StoreError == .closed
                ? Self.errorFrame(.shuttingDown, "the collector is stopping; reconnect later")
                : Self.errorFrame(.internal, "the collector could not store snapshot \(sequence): \(error)"))
            return
        }
        workFinished()
    }

    private func workFinished() {
        lastProgress = .now()
        if quiescing && pendingWork == 0 {
            closeForShutdown()
        } else {
            resumeReadingIfAllowed()
        }
    }

    // MARK: Queries

    private func answer(_ request: WireMessage) {
        guard let context else { return }
        pendingWork += 1
        let queries = environment.queries
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        environment.threadPool.runIfActive(eventLoop: context.eventLoop) {
            try queries.answer(request)
        }.whenComplete { result in
            let handler = loopBound.value
            handler.pendingWork -= 1
            guard case .client = handler.state else { return }
            switch result {
            case .success(let response):
                handler.send(response)
            case .failure(let error as QueryError):
                handler.send(.error(error.errorMessage))
            case .failure(let error):
                handler.logger.error("query failed", metadata: ["leak.error": "\(error)"])
                handler.send(.error(Self.errorFrame(.internal, "the collector failed to answer: \(error)",
                                                    requestID: QueryService.requestID(of: request))))
            }
            handler.workFinished()
        }
    }

    // MARK: Sending and closing

    private func send(_ message: WireMessage, flush: Bool = true) {
        guard let context, context.channel.isActive else { return }
        do {
            let bytes = try encoder.encode(message)
            let buffer = context.channel.allocator.buffer(bytes: bytes)
            if flush {
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            } else {
                context.write(wrapOutboundOut(buffer), promise: nil)
            }
        } catch {
            logger.error("cannot encode \(message.name)", metadata: ["leak.error": "\(error)"])
            close()
        }
    }

    /// Acks of one commit arrive as separate tasks; one flush after them all.
    private func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let handler = loopBound.value
            handler.flushScheduled = false
            handler.context?.flush()
        }
    }

    /// Every Error frame this handler makes itself (others come built: `WireError.errorMessage()`,
    /// a snapshot's violation, a `QueryError`).
    private static func errorFrame(
        _ code: Leakwatch_V1_ErrorCode, _ message: String, requestID: UInt64 = 0
    ) -> Leakwatch_V1_Error {
        var error = Leakwatch_V1_Error()
        error.code = code
        error.message = message
        error.requestID = requestID
        return error
    }

    private func rejectUnexpected(_ message: WireMessage, role: String, expected: String) {
        if case .error(let error) = message {
            logger.info("peer sent an error", metadata: ["leak.code": "\(error.code)", "leak.message": "\(error.message)"])
            close()
            return
        }
        fail(Self.errorFrame(.protocolViolation, "\(message.name) is not allowed from \(role); expected \(expected)"))
    }

    /// Tells the peer what went wrong, then closes this connection (and only it).
    private func fail(_ error: WireError) {
        fail(error.errorMessage())
    }

    private func fail(_ error: Leakwatch_V1_Error) {
        if case .closed = state { return }
        environment.metrics.refusedFrame(error.code)
        logger.warning("closing connection after a protocol error", metadata: [
            "leak.error": "\(error.message)", "leak.errorCode": "\(error.code)",
        ])
        close(after: error)
    }

    private func closeForShutdown() {
        close(after: Self.errorFrame(.shuttingDown, "the collector is stopping; reconnect later"))
    }

    /// Sends `error`, then closes this connection.
    private func close(after error: Leakwatch_V1_Error) {
        send(.error(error))
        close()
    }

    private func close() {
        if case .closed = state { return }
        state = .closed
        handshakeTimeout?.cancel()
        idleCheck?.cancel()
        context?.close(promise: nil)
    }
}
