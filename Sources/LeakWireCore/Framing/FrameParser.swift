/// The framing state of one inbound stream: reads the frame at the front of bytes its owner
/// holds, and inflates its body straight from them.
///
/// ```
///   owner's unconsumed bytes:  [ frame │ frame │ part of a frame ]
///                                └─ nextFrame(in:) ──▶ Frame; the owner drops its wireByteCount bytes
///
///   State:   .header ──(8 bytes: validate magic, version, kind, flags, length)──▶
///            .body(header) ──(8 + length bytes: inflate if DEFLATED, bounded)──▶ .header
///            any error ──▶ .failed (thrown again by every later call)
/// ```
///
/// It keeps no bytes, so each owner reads from its own buffer without a copy: `FrameDecoder`
/// from an array (the agent's blocking connection), the collector's `ByteToMessageDecoder`
/// from its `ByteBuffer`. The owner passes the same unconsumed bytes again, with more behind
/// them, until a frame is returned. An error is final: the stream is out of step and the
/// connection must be closed.
///
/// Not copyable: CONTEXT frames inflate with zlib state kept from the connection's earlier
/// frames, and two copies would feed that one stream out of order.
public struct FrameParser: ~Copyable {
    private enum State {
        case header
        /// The header is checked; its 8 bytes stay at the front until the whole frame is there.
        case body(FrameHeader)
        case failed(WireError)
    }

    public let limits: WireLimits
    private var state: State = .header
    /// Created by the first CONTEXT frame, so a peer that sends none never pays for zlib state.
    private var contextInflater: InflateStream?

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// The frame at the front of `bytes`, or nil until all of it is there. A header is checked
    /// as soon as its 8 bytes are, so an oversized length is refused before its body arrives.
    public mutating func nextFrame(in bytes: UnsafeRawBufferPointer) throws(WireError) -> Frame? {
        do throws(WireError) {
            switch state {
            case .failed(let error):
                throw error
            case .header:
                guard bytes.count >= FrameHeader.byteCount else { return nil }
                let header = try FrameHeader(parsing: bytes, limits: limits)
                state = .body(header)
                return try frame(of: header, in: bytes)
            case .body(let header):
                return try frame(of: header, in: bytes)
            }
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// At end of stream, with `unconsumedByteCount` bytes left over: throws `truncated` if they
    /// are part of a frame, or the error that stopped the stream.
    public func finish(unconsumedByteCount: Int) throws(WireError) {
        switch state {
        case .failed(let error):
            throw error
        case .header where unconsumedByteCount == 0:
            return
        case .header:
            throw WireError.truncated.with("stream ended with \(unconsumedByteCount) bytes of a frame header")
        case .body(let header):
            let bodyByteCount = unconsumedByteCount - FrameHeader.byteCount
            throw WireError.truncated.with(
                "stream ended with \(bodyByteCount) bytes of \(header.kind) frame body of \(header.bodyLength) bytes")
        }
    }

    private mutating func frame(of header: FrameHeader, in bytes: UnsafeRawBufferPointer) throws(WireError) -> Frame? {
        let frameByteCount = FrameHeader.byteCount + header.bodyLength
        guard bytes.count >= frameByteCount else { return nil }
        let sentBody = UnsafeRawBufferPointer(rebasing: bytes[FrameHeader.byteCount..<frameByteCount])
        let body = try self.body(of: header, sent: sentBody)
        state = .header
        return Frame(kind: header.kind, body: body, wireByteCount: frameByteCount)
    }

    /// The protobuf encoding a body carries, as sent: plain, deflated on its own, or the next
    /// piece of the connection's zlib stream.
    private mutating func body(of header: FrameHeader, sent: UnsafeRawBufferPointer) throws(WireError) -> [UInt8] {
        if header.flags.contains(.context) {
            if contextInflater == nil { contextInflater = try InflateStream() }
            return try contextInflater!.inflate(sent, limits: limits)
        }
        if header.flags.contains(.deflated) {
            return try Zlib.inflate(sent, limits: limits)
        }
        return Array(sent)
    }
}
