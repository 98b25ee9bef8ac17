/// Protobuf binary encoding (proto3) for the hand-written messages in ``Wire``.
///
/// Each field is written as `tag = field << 3 | wire type` then its value; fields go in the order
/// they are written, which the messages keep to field-number order (as SwiftProtobuf does, so both
/// encoders produce the same bytes). Proto3 rules: a field at its default value (0, empty, false)
/// is not written, except a field declared `optional` that is present; repeated scalars are packed.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init() {}

    // MARK: Fields with implicit presence (skipped at their default)

    mutating func uint64(_ field: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, .varint)
        varint(value)
    }

    mutating func uint32(_ field: UInt32, _ value: UInt32) { uint64(field, UInt64(value)) }

    /// int64 is the two's-complement varint: a negative value takes 10 bytes.
    mutating func int64(_ field: UInt32, _ value: Int64) { uint64(field, UInt64(bitPattern: value)) }

    /// An enum is an int32 on the wire, sign-extended like int64.
    mutating func enumeration(_ field: UInt32, _ rawValue: Int32) { int64(field, Int64(rawValue)) }

    mutating func bool(_ field: UInt32, _ value: Bool) { uint64(field, value ? 1 : 0) }

    /// Skipped only at +0.0 (bit pattern 0): -0.0 and NaN are written, as SwiftProtobuf writes them.
    mutating func double(_ field: UInt32, _ value: Double) {
        guard value.bitPattern != 0 else { return }
        tag(field, .fixed64)
        fixed64(value.bitPattern)
    }

    mutating func string(_ field: UInt32, _ value: String) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, value.utf8)
    }

    mutating func bytes(_ field: UInt32, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, value)
    }

    mutating func packedUInt32(_ field: UInt32, _ values: [UInt32]) {
        guard !values.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(values.reduce(0) { $0 + Self.varintByteCount(UInt64($1)) }))
        for value in values { varint(UInt64(value)) }
    }

    // MARK: Fields with explicit presence (`optional` scalars, message fields)

    mutating func optionalUInt64(_ field: UInt32, _ value: UInt64?) {
        guard let value else { return }
        tag(field, .varint)
        varint(value)
    }

    mutating func optionalString(_ field: UInt32, _ value: String?) {
        guard let value else { return }
        lengthDelimited(field, value.utf8)
    }

    /// A nested message, written whole even when empty (it is present). `body` writes its fields;
    /// their length goes in front once known.
    mutating func message(_ field: UInt32, _ body: (inout ProtobufWriter) -> Void) {
        tag(field, .lengthDelimited)
        let start = bytes.count
        body(&self)
        let length = UInt64(bytes.count - start)
        var prefix = ProtobufWriter()
        prefix.varint(length)
        bytes.insert(contentsOf: prefix.bytes, at: start)
    }

    // MARK: Primitives

    private mutating func tag(_ field: UInt32, _ wireType: ProtobufWireType) {
        varint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    private mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private mutating func fixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private mutating func lengthDelimited<Bytes: Collection>(_ field: UInt32, _ value: Bytes) where Bytes.Element == UInt8 {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    static func varintByteCount(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }
}
