import LeakTestSupport
import Testing
@testable import LeakWire
@testable import LeakWireCore

/// A body the agent cannot read is a `WireError.malformedMessage` that says where and why, never a
/// trap: the agent runs inside someone else's process.
@Suite("Malformed protobuf")
struct MalformedProtobufTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let kind: MessageKind
        let body: [UInt8]
        let detail: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "truncated varint", kind: .welcome, body: [0x10, 0x80],
             detail: "Welcome body of 2 bytes is not valid protobuf: the varint at byte 1 runs past the end"),
        Case(name: "truncated tag", kind: .ack, body: [0x88],
             detail: "the varint at byte 0 runs past the end"),
        Case(name: "length past the end", kind: .challenge, body: [0x12, 0x20, 0x01, 0x02, 0x03],
             detail: "field 2 at byte 0 announces 32 bytes, only 3 remain"),
        Case(name: "length past the end of an unknown field", kind: .ack, body: [0x08, 0x01, 0xA2, 0x06, 0x7F],
             detail: "field 100 at byte 2 announces 127 bytes, only 0 remain"),
        Case(name: "a huge length", kind: .error, body: [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
             detail: "announces 18446744073709551615 bytes"),
        Case(name: "wrong wire type for a known field", kind: .ack, body: [0x0A, 0x01, 0x00],
             detail: "field 1 at byte 0 has wire type 2 (length-delimited), expected 0 (varint)"),
        Case(name: "a varint where a string belongs", kind: .error, body: [0x10, 0x05],
             detail: "field 2 at byte 0 has wire type 0 (varint), expected 2 (length-delimited)"),
        Case(name: "wire type 6, which does not exist", kind: .welcome, body: [0x0E],
             detail: "field 1 at byte 0 has wire type 6, which does not exist"),
        Case(name: "wire type 7, which does not exist", kind: .welcome, body: [0x08, 0x01, 0x1F],
             detail: "field 3 at byte 2 has wire type 7, which does not exist"),
        Case(name: "a group", kind: .ack, body: [0x7B],
             detail: "field 15 at byte 0 has wire type 3 (group start), which proto3 never uses"),
        Case(name: "field number 0", kind: .ack, body: [0x00, 0x01],
             detail: "a tag at byte 0 names field 0"),
        Case(name: "a varint of 11 bytes", kind: .ack,
             body: [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
             detail: "the varint at byte 1 does not fit 64 bits"),
        Case(name: "a truncated 64-bit unknown field", kind: .welcome, body: [0x81, 0x01, 0x01, 0x02, 0x03],
             detail: "field 16 at byte 0 needs 8 bytes, only 3 remain"),
        Case(name: "a string that is not UTF-8", kind: .error, body: [0x12, 0x02, 0xC3, 0x28],
             detail: "field 2 at byte 0 is not valid UTF-8"),
    ]

    @Test(arguments: cases)
    func aMalformedBodyIsAClearError(_ testCase: Case) {
        let frame = Frame(kind: testCase.kind, body: testCase.body, wireByteCount: 0)
        do {
            let message = try Wire.CollectorMessage(frame)
            Issue.record("decoded as \(message)")
        } catch {
            #expect(error == .malformedMessage)
            #expect(error.detail.contains(testCase.detail), "\(error.detail)")
        }
    }

    /// Every prefix and thousands of random corruptions of real bodies: each decodes or throws
    /// malformedMessage (a trap would end this test process).
    @Test func cutAndCorruptedBodiesNeverTrap() throws {
        var random = RandomWireMessages(seed: 99)
        var outcomes = (decoded: 0, refused: 0)
        for _ in 0..<50 {
            let bodies: [(MessageKind, [UInt8])] = [
                (.challenge, try random.challenge().serializedBytes()), (.welcome, try random.welcome().serializedBytes()),
                (.error, try random.error().serializedBytes()), (.ack, try random.ack().serializedBytes()),
            ]
            for (kind, body) in bodies {
                var variants = (0..<min(body.count, 64)).map { Array(body.prefix($0)) }
                for _ in 0..<20 where !body.isEmpty {
                    var corrupted = body
                    corrupted[random.random.index(body.count)] = UInt8(random.random.index(256))
                    variants.append(corrupted)
                }
                for variant in variants {
                    do {
                        _ = try Wire.CollectorMessage(Frame(kind: kind, body: variant, wireByteCount: 0))
                        outcomes.decoded += 1
                    } catch {
                        #expect(error == .malformedMessage)
                        outcomes.refused += 1
                    }
                }
            }
        }
        #expect(outcomes.decoded > 0 && outcomes.refused > 0, "\(outcomes)")
    }

    @Test func aConnectionReportsAMalformedAckAsMalformed() throws {
        var decoder = FrameDecoder()
        decoder.append(FrameEncoder(compression: .never).encode(kind: .ack, body: [0x0A, 0x01, 0x00]))
        let frame = try #require(try decoder.nextFrame())
        #expect(throws: WireError.malformedMessage) { try Wire.CollectorMessage(frame) }
    }
}
