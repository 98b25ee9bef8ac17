/// Protocol versions, negotiated in the handshake (not the frame header's version byte).
public enum ProtocolVersion {
    /// The schema in leakwatch.proto.
    public static let current: UInt32 = 1
    /// Every version this build speaks, in preference order (highest first).
    public static let supported: [UInt32] = [1]

    /// The highest version both lists contain.
    public static func negotiate(offered: [UInt32], supported: [UInt32] = supported) -> UInt32? {
        Set(offered).intersection(supported).max()
    }
}
