// A small SwiftNIO HTTP/1.1 server of the kind a team writes outside this project, linked with
// LeakAgentHooks and started with LeakAgent.startFromEnvironment(): ServerBenchmark's Swift server.
// Each request builds a small JSON body from its path and headers (a few Swift strings and an
// array), so that the allocator sees what a real handler gives it, not a static buffer.
//
//   NIOHTTPServer --port PORT [--threads N] [--agent-off]
//
// --agent-off: the benchmark's plain run. The hooks are linked and cannot be taken out of the same
// binary, so plain is this binary with the agent not started and sampling off (T = 0): what remains
// is interposition and counting, which AllocatorBenchmark measures on its own.
import LeakAgent
import NIOCore
import NIOHTTP1
import NIOPosix

final class GreetingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var request: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let names = head.headers.map { $0.name.lowercased() }.sorted()
        let text = #"{"path":"\#(head.uri)","method":"\#(head.method)","headers":["\#(names.joined(separator: #"",""#))"]}"# + "\n"
        var body = context.channel.allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}

var port = 8080
var threads = System.coreCount
var agentOff = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--port", let value = arguments.popFirst().flatMap({ Int($0) }) {
        port = value
    } else if argument == "--threads", let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 {
        threads = value
    } else if argument == "--agent-off" {
        agentOff = true
    } else {
        print("usage: NIOHTTPServer --port PORT [--threads N] [--agent-off]")
        exit(2)
    }
}

if agentOff {
    LeakAgent.sampleMeanBytes = 0
} else {
    LeakAgent.startFromEnvironment()
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandler(GreetingHandler())
        }
    }
let server = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
print("NIOHTTPServer: listening on 127.0.0.1:\(port), \(threads) event loops")
try server.closeFuture.wait()
