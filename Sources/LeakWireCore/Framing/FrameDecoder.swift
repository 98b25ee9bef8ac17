/// Incremental frame decoder: feed it bytes as they arrive, in chunks of any size, and
/// take complete frames out.
///
/// ```
///          append(bytes)                       nextFrame()
///   ──────────────────────▶ [ buffered bytes ] ──────────────▶ Frame
///
///   State:   .header ──(8 bytes: validate magic, version, kind, flags, length)──▶
///            .body(header) ──(length bytes: inflate if DEFLATED, bounded)──▶ .header
/// ```
///
/// It has no I/O and no dependency on SwiftNIO: a `ByteToMessageDecoder` appends the
/// readable bytes of its buffer (`buffer.readWithUnsafeReadableBytes`) and drains frames.
/// Any error is final: the stream is out of step and the connection must be closed.
///
/// One decoder per connection: CONTEXT frames inflate with zlib state kept from earlier
/// frames, which copies of a decoder share.
public struct FrameDecoder: Sendable {
    enum State: Sendable {
        case header
        case body(FrameHeader)
        case failed(WireError)
    }

    public let limits: WireLimits
    private(set) var state: State = .header
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var inflater: InflateStream?

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// Storage kept between frames; beyond it, an emptied buffer is freed.
    static let retainedCapacityBytes = 256 << 10

    /// Bytes received but not yet part of a returned frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil if more bytes are needed.
    public mutating func nextFrame() throws -> Frame? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .header:
                guard bufferedByteCount >= FrameHeader.byteCount else { return nil }
                let start = readIndex
                let parsed = buffer.withUnsafeBytes { raw in
                    Result { () throws(WireError) in
                        try FrameHeader(
                            parsing: UnsafeRawBufferPointer(rebasing: raw[start..<start + FrameHeader.byteCount]),
                            limits: limits)
                    }
                }
                switch parsed {
                case .success(let header):
                    readIndex += FrameHeader.byteCount
                    state = .body(header)
                case .failure(let error):
                    state = .failed(error)
                    throw error
                }
            case .body(let header):
                guard bufferedByteCount >= header.bodyLength else { return nil }
                let payload = Array(buffer[readIndex..<readIndex + header.bodyLength])
                readIndex += header.bodyLength
                do {
                    let body: [UInt8]
                    if header.flags.contains(.context) {
                        if inflater == nil { inflater = try InflateStream() }
                        body = try inflater!.inflate(payload, limits: limits)
                    } else if header.flags.contains(.deflated) {
                        body = try Zlib.inflate(payload, limits: limits)
                    } else {
                        body = payload
                    }
                    state = .header
                    return Frame(kind: header.kind, body: body,
                                 wireByteCount: FrameHeader.byteCount + header.bodyLength)
                } catch {
                    let wireError = error as? WireError ?? WireError.corruptCompressedBody.with("\(error)")
                    state = .failed(wireError)
                    throw wireError
                }
            }
        }
    }

    /// Call at end of stream: throws `truncated` if a frame was left incomplete.
    public func finish() throws {
        if case .failed(let error) = state { throw error }
        var insideBody = false
        if case .body = state { insideBody = true }
        guard bufferedByteCount == 0 && !insideBody else {
            let inside: String
            if case .body(let header) = state {
                inside = "\(header.kind) frame body of \(header.bodyLength) bytes"
            } else {
                inside = "a frame header"
            }
            throw WireError.truncated.with("stream ended with \(bufferedByteCount) bytes of \(inside)")
        }
    }

    /// Drops consumed bytes once they are the larger part of the buffer, so a long-lived
    /// connection's buffer stays proportional to one frame.
    private mutating func compactIfWorthwhile() {
        // Every byte taken and the storage grown past one ordinary read: give it back, or a
        // connection that once carried a large frame (or a peer that announced one and gave up
        // half-way) keeps megabytes resident for its lifetime.
        if readIndex == buffer.count && buffer.capacity > Self.retainedCapacityBytes {
            buffer = []
            readIndex = 0
            return
        }
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// Decodes exactly one frame from `bytes` (no more, no less).
    public static func decodeSingleFrame(_ bytes: [UInt8], limits: WireLimits = .default) throws -> Frame {
        var decoder = FrameDecoder(limits: limits)
        decoder.append(bytes)
        guard let frame = try decoder.nextFrame() else {
            try decoder.finish()
            throw WireError.truncated
        }
        guard decoder.bufferedByteCount == 0 else {
            throw WireError.malformedMessage.with("\(decoder.bufferedByteCount) bytes after the frame")
        }
        return frame
    }
}
