import LeakWire
import NIOCore

/// SwiftNIO's side of LeakWire's `FrameParser`: frames read and inflated straight from the
/// channel's `ByteBuffer`, which keeps the bytes of a partial frame until the rest arrives.
///
/// ```
///   ByteBuffer (readable bytes) ──FrameParser (limits, bounded inflate)──▶ Frame ──▶ next handler
///              ◀── reader index moved past frame.wireByteCount
/// ```
///
/// A framing error (bad magic, wrong version, unknown kind, oversized, corrupt or bomb zlib)
/// is thrown; `ByteToMessageHandler` passes it to `errorCaught` of the next handler, which
/// answers with an Error frame and closes. At end of stream a partial frame is `truncated`.
///
/// When it stops for more bytes, or has read every byte, it tells the server's
/// `InboundByteBudget` how many bytes of a partial frame the connection holds (only when that
/// changed), which decides whether the connection reads on.
///
/// A class, as `ByteToMessageDecoder` needs a copyable type and the parser is not: the
/// connection's one `ByteToMessageHandler` owns it. Not `Sendable`: it lives on the channel's
/// event loop.
final class WireFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame

    private var parser: FrameParser
    private let account: InboundByteBudget.Account?
    private var reportedHeldBytes = 0

    init(limits: WireLimits, account: InboundByteBudget.Account? = nil) {
        self.parser = FrameParser(limits: limits)
        self.account = account
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try buffer.withUnsafeReadableBytes({ try parser.nextFrame(in: $0) }) else {
            reportHeld(buffer.readableBytes)
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: frame.wireByteCount)
        if buffer.readableBytes == 0 { reportHeld(0) }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        try parser.finish(unconsumedByteCount: buffer.readableBytes)
        return .needMoreData
    }

    private func reportHeld(_ bytes: Int) {
        guard bytes != reportedHeldBytes, let account else { return }
        reportedHeldBytes = bytes
        account.setHeld(bytes)
    }
}
