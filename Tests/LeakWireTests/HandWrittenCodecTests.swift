import Foundation
import LeakTestSupport
import SwiftProtobuf
import Testing
@testable import LeakWire
@testable import LeakWireCore

/// The agent's hand-written messages (LeakWireCore's `Wire`) against SwiftProtobuf's generated ones:
/// what the agent sends decodes as the collector expects, byte for byte what SwiftProtobuf writes;
/// what the collector sends decodes as the agent expects.
@Suite("Hand-written protobuf codec")
struct HandWrittenCodecTests {
    static let seeds: [UInt64] = Array(1...200)

    /// Equal, or, when a double is NaN (NaN != NaN), the same SwiftProtobuf encoding.
    static func same<M: SwiftProtobuf.Message>(_ a: M, _ b: M) throws -> Bool {
        try a.isEqualTo(message: b) || (a.serializedBytes() as [UInt8]) == (b.serializedBytes() as [UInt8])
    }

    @Test(arguments: seeds)
    func snapshotsEncodeAsSwiftProtobufDoes(seed: UInt64) throws {
        var random = RandomWireMessages(seed: seed)
        let snapshot = random.snapshot()
        let expected = Leakwatch_V1_Snapshot(snapshot)
        let handWritten = snapshot.serializedBody()
        let decoded = try Leakwatch_V1_Snapshot(serializedBytes: handWritten)
        #expect(try Self.same(decoded, expected), "seed \(seed)")
        #expect(handWritten == (try expected.serializedBytes() as [UInt8]), "seed \(seed): the encodings differ")
    }

    @Test(arguments: seeds)
    func hellosEncodeAsSwiftProtobufDoes(seed: UInt64) throws {
        var random = RandomWireMessages(seed: seed)
        let hello = random.hello()
        let expected = Leakwatch_V1_Hello(hello)
        let handWritten = hello.serializedBody()
        #expect(try Leakwatch_V1_Hello(serializedBytes: handWritten) == expected, "seed \(seed)")
        #expect(handWritten == (try expected.serializedBytes() as [UInt8]), "seed \(seed): the encodings differ")
        let authenticate = Wire.Authenticate(proof: random.bytes())
        #expect(authenticate.serializedBody() == (try Leakwatch_V1_Authenticate(authenticate).serializedBytes() as [UInt8]))
    }

    @Test func emptyAndDefaultMessagesEncodeAsSwiftProtobufDoes() throws {
        #expect(Wire.Hello().serializedBody().isEmpty)
        #expect(Wire.Authenticate().serializedBody().isEmpty)
        // stats and overhead are present even when zero: 0x22 0x00 0x2a 0x00.
        #expect(Wire.Snapshot().serializedBody() == [0x22, 0x00, 0x2A, 0x00])
        #expect(Wire.Snapshot().serializedBody() == (try Leakwatch_V1_Snapshot(Wire.Snapshot()).serializedBytes() as [UInt8]))
        // Explicit presence: an empty type name and a zero image offset are sent.
        var snapshot = Wire.Snapshot(stacks: [Wire.Stack(frames: [Wire.Frame(imageOffset: 0)])],
                                     sites: [Wire.Site(typeName: "")])
        snapshot.stats.uptimeSeconds = -0.0
        let decoded = try Leakwatch_V1_Snapshot(serializedBytes: snapshot.serializedBody())
        #expect(decoded.sites[0].hasTypeName && decoded.stacks[0].frames[0].hasImageOffset)
        #expect(decoded.stats.uptimeSeconds.sign == .minus)
    }

    @Test func theAgentsRealisticSnapshotsEncodeAsSwiftProtobufDoes() throws {
        var process = RealisticProcess(siteCount: 200)
        for _ in 0..<5 {
            let expected = process.nextSnapshot()
            let snapshot = Wire.Snapshot(expected)
            #expect(snapshot.serializedBody() == (try expected.serializedBytes() as [UInt8]))
        }
    }

    @Test(arguments: seeds)
    func whatTheCollectorSendsDecodesAsTheAgentExpects(seed: UInt64) throws {
        var random = RandomWireMessages(seed: seed)
        let challenge = random.challenge()
        #expect(try Wire.Challenge(decoding: challenge.serializedBytes()) == Wire.Challenge(challenge), "seed \(seed)")
        let welcome = random.welcome()
        #expect(try Wire.Welcome(decoding: welcome.serializedBytes()) == Wire.Welcome(welcome), "seed \(seed)")
        let error = random.error()
        #expect(try Wire.Error(decoding: error.serializedBytes()) == Wire.Error(error), "seed \(seed)")
        let ack = random.ack()
        #expect(try Wire.Ack(decoding: ack.serializedBytes()) == Wire.Ack(ack), "seed \(seed)")
    }

    /// Proto3 readers take fields in any order and skip the ones they do not know, of every wire
    /// type: a newer collector may add fields.
    @Test(arguments: seeds.prefix(50))
    func fieldsInAnyOrderAndUnknownFieldsAreRead(seed: UInt64) throws {
        var random = RandomWireMessages(seed: seed)
        let error = random.error()
        var unknown = ProtobufWriter()
        unknown.uint64(15, random.uint64() | 1)
        unknown.double(16, 1.5)
        unknown.bytes(17, [1, 2, 3])
        let fixed32: [UInt8] = [0x95, 0x01, 0xDE, 0xAD, 0xBE, 0xEF]  // field 18, wire type 5
        var pieces: [[UInt8]] = [
            try Leakwatch_V1_Error.with { $0.code = error.code }.serializedBytes(),
            try Leakwatch_V1_Error.with { $0.message = error.message }.serializedBytes(),
            try Leakwatch_V1_Error.with { $0.requestID = error.requestID }.serializedBytes(),
            unknown.bytes, fixed32,
        ]
        pieces.shuffle(using: &random.random)
        #expect(try Wire.Error(decoding: pieces.flatMap { $0 }) == Wire.Error(error), "seed \(seed)")
    }

    @Test func enumsPrintAsTheGeneratedOnesDo() {
        // collector-cli and the shipper's messages show codes by name ("authenticationFailed").
        for raw in Int32(0)...10 {
            #expect("\(Wire.ErrorCode(rawValue: raw))" == "\(Leakwatch_V1_ErrorCode(rawValue: Int(raw))!)")
            #expect(Wire.ErrorCode(rawValue: raw).rawValue == raw)
        }
        for raw in Int32(0)...6 {
            #expect("\(Wire.EventKind(rawValue: raw))" == "\(Leakwatch_V1_EventKind(rawValue: Int(raw))!)")
            #expect("\(Wire.MemoryErrorKind(rawValue: raw))" == "\(Leakwatch_V1_MemoryErrorKind(rawValue: Int(raw))!)")
        }
        for raw in Int32(0)...3 {
            #expect("\(Wire.MemoryAccess(rawValue: raw))" == "\(Leakwatch_V1_MemoryAccess(rawValue: Int(raw))!)")
        }
        for raw in Int32(0)...2 {
            #expect("\(Wire.Role(rawValue: raw))" == "\(Leakwatch_V1_Role(rawValue: Int(raw))!)")
        }
        #expect(Wire.ErrorCode(rawValue: -7) == .unrecognized(-7) && Wire.ErrorCode(rawValue: -7).rawValue == -7)
    }
}
