/// The fixed 8-byte header in front of every body.
///
/// ```
///  0        1        2        3        4        5        6        7
/// +--------+--------+--------+--------+--------+--------+--------+--------+
/// | magic  | version|  kind  | flags  |      body length (u32 big-endian)  |
/// |  0x4C  |  0x01  |        |        |                                   |
/// +--------+--------+--------+--------+--------+--------+--------+--------+
/// | body: `length` bytes — protobuf; zlib if flags & 0x01 (DEFLATED),     ...
/// |       continuing the connection's zlib stream if also flags & 0x02 (CONTEXT)
/// +--------+--------+--------+---
/// ```
public struct FrameHeader: Sendable, Hashable {
    public static let byteCount = 8
    /// 'L'. A peer that is not Leakwatch fails on the first byte.
    public static let magic: UInt8 = 0x4C
    /// The framing version this build writes and reads.
    public static let currentVersion: UInt8 = 1

    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The body is a zlib stream (RFC 1950) wrapping the protobuf encoding.
        public static let deflated = Flags(rawValue: 0x01)
        /// With `deflated`: the body is the next piece of the sender's one zlib stream for this
        /// connection (context takeover), ending in a sync flush. Never without `deflated`.
        public static let context = Flags(rawValue: 0x02)
        static let known: Flags = [.deflated, .context]
    }

    public var kind: MessageKind
    public var flags: Flags
    /// Bytes of body following the header, as sent (after deflate).
    public var bodyLength: Int

    public init(kind: MessageKind, flags: Flags, bodyLength: Int) {
        self.kind = kind
        self.flags = flags
        self.bodyLength = bodyLength
    }

    /// Parses and validates a header from exactly `byteCount` bytes.
    ///
    /// Checks run in wire order (magic, version, kind, flags, length) so the first bad byte
    /// names the error.
    public init(parsing bytes: UnsafeRawBufferPointer, limits: WireLimits) throws(WireError) {
        guard bytes.count >= Self.byteCount else {
            throw WireError.truncated.with("frame header needs \(Self.byteCount) bytes, have \(bytes.count)")
        }
        guard bytes[0] == Self.magic else {
            throw WireError.badMagic.with(
                "first header byte is 0x\(String(bytes[0], radix: 16)), expected 0x4c: the peer does not speak the Leakwatch protocol")
        }
        guard bytes[1] == Self.currentVersion else {
            throw WireError.unsupportedVersion.with(
                "frame version \(bytes[1]), this build reads version \(Self.currentVersion)")
        }
        guard let kind = MessageKind(rawValue: bytes[2]) else {
            throw WireError.unknownKind.with("frame kind \(bytes[2]) is not a known message kind")
        }
        let flags = Flags(rawValue: bytes[3])
        guard flags.subtracting(Flags.known).isEmpty else {
            throw WireError.reservedFlags.with("reserved flag bits set: 0x\(String(bytes[3], radix: 16))")
        }
        guard !flags.contains(.context) || flags.contains(.deflated) else {
            throw WireError.reservedFlags.with("CONTEXT flag (0x02) without DEFLATED (0x01)")
        }
        let length = Int(bytes[4]) << 24 | Int(bytes[5]) << 16 | Int(bytes[6]) << 8 | Int(bytes[7])
        guard length <= limits.maximumFrameBodyBytes else {
            throw WireError.frameTooLarge.with(
                "\(kind) frame announces \(length) body bytes, limit is \(limits.maximumFrameBodyBytes)")
        }
        self.init(kind: kind, flags: flags, bodyLength: length)
    }

    /// The 8 header bytes.
    public var bytes: [UInt8] {
        let length = UInt32(truncatingIfNeeded: bodyLength)
        return [
            Self.magic, Self.currentVersion, kind.rawValue, flags.rawValue,
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
    }
}
