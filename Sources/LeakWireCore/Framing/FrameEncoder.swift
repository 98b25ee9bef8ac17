/// Turns bodies into frames: header + body, deflating when it pays.
///
/// One encoder per connection and direction when using `.context`: it owns that
/// connection's zlib stream, and the peer's decoder must see every frame it produced, in
/// order. The other modes are stateless.
public final class FrameEncoder {
    public enum Compression: Sendable, Hashable {
        /// Never deflate (handshake frames, tests, golden bytes).
        case never
        /// Deflate bodies of at least `minimumBytes`, each on its own (DEFLATED), when that
        /// makes them smaller and a receiver with `WireLimits.default` would inflate them.
        case automatic(minimumBytes: Int)
        /// Always deflate, each body on its own (DEFLATED).
        case always
        /// Deflate bodies of at least `minimumBytes` as pieces of one zlib stream for the
        /// whole connection (DEFLATED | CONTEXT), so each compresses against earlier ones.
        case context(minimumBytes: Int)
    }

    public let compression: Compression
    private var deflater: DeflateStream?

    /// Default: bodies of 256 bytes or more are deflated on their own when that makes them smaller.
    public init(compression: Compression = .automatic(minimumBytes: 256)) {
        self.compression = compression
    }

    /// One complete frame carrying `body` as a message of `kind`.
    public func encode(kind: MessageKind, body: [UInt8]) -> [UInt8] {
        var flags: FrameHeader.Flags = []
        var payload = body
        switch compression {
        case .never:
            break
        case .always:
            payload = Zlib.deflate(body)
            flags.insert(.deflated)
        case .automatic(let minimumBytes):
            if body.count >= minimumBytes {
                let deflated = Zlib.deflate(body)
                // Not beyond what a receiver with the default limits inflates: a body of repeated
                // text (a stored 16 KiB name, many identical frames) deflates past the 256:1 ratio
                // and would be refused as a zlib bomb (issue 15: `report` failed on such a host).
                if deflated.count < body.count,
                   body.count <= WireLimits.default.inflatedLimit(compressedBytes: deflated.count) {
                    payload = deflated
                    flags.insert(.deflated)
                }
            }
        case .context(let minimumBytes):
            // Always through the stream once chosen: skipping a body that did not shrink would
            // only save a few bytes and a smaller body helps no later frame.
            if body.count >= minimumBytes {
                if deflater == nil { deflater = DeflateStream() }
                payload = deflater!.deflate(body)
                flags.formUnion([.deflated, .context])
            }
        }
        precondition(payload.count <= Int(UInt32.max), "frame body of \(payload.count) bytes exceeds u32")
        var frame = FrameHeader(kind: kind, flags: flags, bodyLength: payload.count).bytes
        frame.reserveCapacity(FrameHeader.byteCount + payload.count)
        frame.append(contentsOf: payload)
        return frame
    }

    /// One complete frame carrying `message`.
    public func encode(_ message: some WireEncodable) throws -> [UInt8] {
        encode(kind: message.kind, body: try message.serializedBody())
    }
}
