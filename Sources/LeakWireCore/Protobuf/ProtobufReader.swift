/// Reads the fields of one protobuf-encoded message, for the hand-written messages in ``Wire``:
///
/// ```
/// var reader = ProtobufReader(body, message: "Welcome")
/// while let field = try reader.nextField() {
///     switch field {
///     case 1: welcome.accepted = try reader.bool()
///     default: try reader.skip()  // a field this build does not know
///     }
/// }
/// ```
///
/// Every read is bounds-checked; a malformed body throws `WireError.malformedMessage` naming the
/// message, the field and the byte, never traps. Stricter than SwiftProtobuf in one way: a known
/// field with another wire type is an error (SwiftProtobuf skips it as unknown), since a field's
/// type never changes in the schema and a silently zero Ack or Welcome would mislead the agent.
struct ProtobufReader {
    private let body: [UInt8]
    private let messageName: String
    private var offset = 0
    private var field: UInt32 = 0
    /// Where the current field's tag starts, for errors.
    private var fieldStart = 0
    private var wireType = ProtobufWireType.varint

    init(_ bytes: [UInt8], message: String) {
        self.body = bytes
        self.messageName = message
    }

    /// The next field's number, or nil at the end of the body.
    mutating func nextField() throws(WireError) -> UInt32? {
        guard offset < body.count else { return nil }
        let start = offset
        let tag = try varint()
        let number = tag >> 3
        guard number >= 1 && number <= 0x1FFF_FFFF else {
            throw malformed("a tag at byte \(start) names field \(number); field numbers are 1...536870911")
        }
        field = UInt32(number)
        fieldStart = start
        guard let type = ProtobufWireType(rawValue: UInt8(tag & 7)) else {
            throw malformed("field \(number) at byte \(start) has wire type \(tag & 7), which does not exist")
        }
        wireType = type
        return field
    }

    mutating func uint64() throws(WireError) -> UInt64 {
        try expect(.varint)
        return try varint()
    }

    /// As SwiftProtobuf reads a uint32: the low 32 bits of the varint.
    mutating func uint32() throws(WireError) -> UInt32 { UInt32(truncatingIfNeeded: try uint64()) }

    mutating func int64() throws(WireError) -> Int64 { Int64(bitPattern: try uint64()) }

    /// An enum's raw value: the low 32 bits, signed.
    mutating func enumeration() throws(WireError) -> Int32 { Int32(truncatingIfNeeded: try uint64()) }

    mutating func bool() throws(WireError) -> Bool { try uint64() != 0 }

    mutating func double() throws(WireError) -> Double {
        try expect(.fixed64)
        let raw = try take(8)
        return Double(bitPattern: raw.reversed().reduce(0) { $0 << 8 | UInt64($1) })
    }

    mutating func bytes() throws(WireError) -> [UInt8] {
        try expect(.lengthDelimited)
        return Array(try take(try length()))
    }

    /// Proto3 strings are UTF-8; anything else is refused, as SwiftProtobuf refuses it.
    mutating func string() throws(WireError) -> String {
        let raw = try bytes()
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw malformed("\(currentField) is not valid UTF-8")
        }
        return text
    }

    /// Steps over the current field's value (a field this build does not know).
    mutating func skip() throws(WireError) {
        switch wireType {
        case .varint: _ = try varint()
        case .fixed64: _ = try take(8)
        case .lengthDelimited: _ = try take(try length())
        case .fixed32: _ = try take(4)
        case .startGroup, .endGroup:
            throw malformed("\(currentField) has wire type \(wireType), which proto3 never uses")
        }
    }

    // MARK: Primitives

    private func expect(_ expected: ProtobufWireType) throws(WireError) {
        guard wireType == expected else {
            throw malformed("\(currentField) has wire type \(wireType), expected \(expected)")
        }
    }

    private mutating func varint() throws(WireError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < body.count else { throw malformed("the varint at byte \(start) runs past the end") }
            let byte = body[offset]
            offset += 1
            // The tenth byte holds bit 63 only.
            guard shift < 63 || byte <= 1 else { throw malformed("the varint at byte \(start) does not fit 64 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    private mutating func length() throws(WireError) -> Int {
        let announced = try varint()
        let remaining = body.count - offset
        guard announced <= UInt64(remaining) else {
            throw malformed("\(currentField) announces \(announced) bytes, only \(remaining) remain")
        }
        return Int(announced)
    }

    private mutating func take(_ count: Int) throws(WireError) -> ArraySlice<UInt8> {
        guard count <= body.count - offset else {
            throw malformed("\(currentField) needs \(count) bytes, only \(body.count - offset) remain")
        }
        defer { offset += count }
        return body[offset..<offset + count]
    }

    private var currentField: String { "field \(field) at byte \(fieldStart)" }

    private func malformed(_ detail: String) -> WireError {
        WireError.malformedMessage.with("\(messageName) body of \(body.count) bytes is not valid protobuf: \(detail)")
    }
}
