/// Turns bodies into frames: header + body, deflating when it pays.
public struct FrameEncoder: Sendable {
    public enum Compression: Sendable, Hashable {
        /// Never deflate (handshake frames, tests, golden bytes).
        case never
        /// Deflate bodies of at least `minimumBytes` when that makes them smaller.
        case automatic(minimumBytes: Int)
        /// Always deflate.
        case always
    }

    public var compression: Compression

    /// Bodies of 256 bytes or more are deflated when that makes them smaller.
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
                if deflated.count < body.count {
                    payload = deflated
                    flags.insert(.deflated)
                }
            }
        }
        precondition(payload.count <= Int(UInt32.max), "frame body of \(payload.count) bytes exceeds u32")
        var frame = FrameHeader(kind: kind, flags: flags, bodyLength: payload.count).bytes
        frame.reserveCapacity(FrameHeader.byteCount + payload.count)
        frame.append(contentsOf: payload)
        return frame
    }

    /// One complete frame carrying `message`.
    public func encode(_ message: WireMessage) throws -> [UInt8] {
        encode(kind: message.kind, body: try message.serializedBody())
    }
}
