import LeakWire
import NIOCore

/// SwiftNIO adapter for LeakWire's incremental `FrameDecoder`: bytes in, `Frame`s out.
///
/// ```
///   ByteBuffer ──append──▶ FrameDecoder (limits, bounded inflate) ──nextFrame──▶ Frame ──▶ next handler
/// ```
///
/// A framing error (bad magic, wrong version, unknown kind, oversized, corrupt or bomb zlib)
/// is thrown; `ByteToMessageHandler` passes it to `errorCaught` of the next handler, which
/// answers with an Error frame and closes. At end of stream a partial frame is `truncated`.
struct WireFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame

    private var decoder: FrameDecoder

    init(limits: WireLimits) {
        self.decoder = FrameDecoder(limits: limits)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        while let frame = try decoder.nextFrame() {
            context.fireChannelRead(wrapInboundOut(frame))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        _ = try decode(context: context, buffer: &buffer)
        try decoder.finish()
        return .needMoreData
    }
}
