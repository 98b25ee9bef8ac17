import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One scraper's HTTP/1 connection: `GET /metrics` answers the exposition, rendered on the thread
/// pool (it reads the store); anything else a 404 or 405. Keep-alive as the request asks.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The Prometheus text exposition format, version 0.0.4.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let exposition: MetricsExposition
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private var request: HTTPRequestHead?

    init(exposition: MetricsExposition, threadPool: NIOThreadPool, logger: Logger) {
        self.exposition = exposition
        self.threadPool = threadPool
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path == "/metrics" else {
            return send(.notFound, body: "not found: metrics are at /metrics\n", head: head, context: context)
        }
        guard head.method == .GET || head.method == .HEAD else {
            return send(.methodNotAllowed, body: "only GET /metrics\n", head: head, context: context, extra: [("Allow", "GET, HEAD")])
        }
        let exposition = exposition
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        threadPool.runIfActive(eventLoop: context.eventLoop) { try exposition.render() }.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let text):
                handler.send(.ok, body: text, head: head, context: context, contentType: Self.contentType)
            case .failure(let error):
                handler.logger.error("metrics scrape failed", metadata: ["leak.error": "\(error)"])
                handler.send(.internalServerError, body: "cannot read the store: \(error)\n", head: head, context: context)
            }
        }
    }

    private func send(
        _ status: HTTPResponseStatus, body: String, head: HTTPRequestHead, context: ChannelHandlerContext,
        extra: [(String, String)] = []
    ) {
        send(status, body: Array(body.utf8), head: head, context: context, contentType: "text/plain; charset=utf-8", extra: extra)
    }

    private func send(
        _ status: HTTPResponseStatus, body: [UInt8], head: HTTPRequestHead, context: ChannelHandlerContext,
        contentType: String, extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(body.count)")] + extra)
        let keepAlive = head.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
