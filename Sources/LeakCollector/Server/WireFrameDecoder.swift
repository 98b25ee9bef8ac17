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
///
/// After each read it tells the server's `InboundByteBudget` how many bytes of a partial frame
/// it holds (only when that changed), which decides whether the connection reads on.
struct WireFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame

    private var decoder: FrameDecoder
    private let account: InboundByteBudget.Account?
    private var reportedHeldBytes = 0

    init(limits: WireLimits, account: InboundByteBudget.Account? = nil) {
        self.decoder = FrameDecoder(limits: limits)
        self.account = account
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        defer { reportHeldBytes() }
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

    private mutating func reportHeldBytes() {
        let held = decoder.bufferedByteCount
        guard held != reportedHeldBytes, let account else { return }
        reportedHeldBytes = held
        account.setHeld(held)
    }
}
