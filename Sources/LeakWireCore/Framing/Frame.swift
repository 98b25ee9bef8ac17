/// One decoded frame: its kind and its protobuf body, already inflated.
public struct Frame: Sendable, Hashable {
    public var kind: MessageKind
    /// The protobuf encoding of the message `kind` names (never deflated here).
    public var body: [UInt8]
    /// Bytes this frame took on the wire (header + body as sent), for accounting.
    public var wireByteCount: Int

    public init(kind: MessageKind, body: [UInt8], wireByteCount: Int) {
        self.kind = kind
        self.body = body
        self.wireByteCount = wireByteCount
    }
}
