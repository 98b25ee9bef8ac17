/// Incremental frame decoder over an array: feed it bytes as they arrive, in chunks of any
/// size, and take complete frames out.
///
/// ```
///          append(bytes)                       nextFrame()
///   ──────────────────────▶ [ buffered bytes ] ──FrameParser──▶ Frame
/// ```
///
/// The agent's blocking connection and the tests use it; the collector reads its `ByteBuffer`
/// through a `FrameParser` of its own instead, without this buffer. Any error is final: the
/// stream is out of step and the connection must be closed.
///
/// One decoder per connection, and not copyable: it owns the connection's inflate stream.
public struct FrameDecoder: ~Copyable {
    private var parser: FrameParser
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init(limits: WireLimits = .default) {
        parser = FrameParser(limits: limits)
    }

    public var limits: WireLimits { parser.limits }

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
    public mutating func nextFrame() throws(WireError) -> Frame? {
        guard let frame = try Self.nextFrame(in: buffer, from: readIndex, parser: &parser) else { return nil }
        readIndex += frame.wireByteCount
        return frame
    }

    /// Call at end of stream: throws `truncated` if a frame was left incomplete.
    public func finish() throws(WireError) {
        try parser.finish(unconsumedByteCount: bufferedByteCount)
    }

    // Static, so that the buffer is borrowed while the parser is changed: a closure over `self`
    // would claim all of it.
    private static func nextFrame(in buffer: [UInt8], from start: Int, parser: inout FrameParser) throws(WireError) -> Frame? {
        // Array's withUnsafeBytes only rethrows `any Error`: the typed error comes out as a Result.
        try buffer.withUnsafeBytes { raw in
            Result { () throws(WireError) in try parser.nextFrame(in: UnsafeRawBufferPointer(rebasing: raw[start...])) }
        }.get()
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
    public static func decodeSingleFrame(_ bytes: [UInt8], limits: WireLimits = .default) throws(WireError) -> Frame {
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
