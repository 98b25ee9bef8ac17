/// The low three bits of a field's tag: how its value is laid out.
enum ProtobufWireType: UInt8, CustomStringConvertible {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    var description: String {
        switch self {
        case .varint: "0 (varint)"
        case .fixed64: "1 (64-bit)"
        case .lengthDelimited: "2 (length-delimited)"
        case .startGroup: "3 (group start)"
        case .endGroup: "4 (group end)"
        case .fixed32: "5 (32-bit)"
        }
    }
}
