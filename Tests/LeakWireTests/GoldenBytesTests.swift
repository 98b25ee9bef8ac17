import Testing
@testable import LeakWire
@testable import LeakWireCore

/// The bytes printed in docs/PROTOCOL.md ("A worked example"). If this test fails, either the
/// encoder changed the wire format or the document is wrong: fix one, never both silently.
@Suite("Golden bytes")
struct GoldenBytesTests {
    static let helloFrameHex = """
    4c 01 01 00 00 00 00 40 0a 01 01 10 01 1a 05 77
    65 62 2d 33 22 08 63 68 65 63 6b 6f 75 74 2a 10
    00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
    30 92 21 38 80 80 a8 be f6 94 bf bd 18 42 05 30
    2e 31 2e 30 48 80 80 20
    """

    static func bytes(fromHex hex: String) -> [UInt8] {
        hex.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            bytes[start..<min(start + 16, bytes.count)].map {
                ($0 < 16 ? "0" : "") + String($0, radix: 16)
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    @Test func theExampleHelloEncodesToTheDocumentedBytes() throws {
        let frame = try FrameEncoder().encode(.hello(Fixtures.exampleHello))
        #expect(Self.hex(frame) == Self.helloFrameHex, "actual:\n\(Self.hex(frame))")
    }

    @Test func theAgentsHelloEncodesToTheDocumentedBytes() throws {
        let frame = try FrameEncoder().encode(Fixtures.exampleWireHello)
        #expect(Self.hex(frame) == Self.helloFrameHex, "actual:\n\(Self.hex(frame))")
    }

    @Test func theDocumentedBytesDecodeToTheExampleHello() throws {
        let frame = try FrameDecoder.decodeSingleFrame(Self.bytes(fromHex: Self.helloFrameHex))
        #expect(frame.kind == .hello)
        #expect(try WireMessage(frame) == .hello(Fixtures.exampleHello))
    }

    @Test func theExampleProofIsStable() throws {
        let nonce = (0..<32).map { UInt8($0) }
        let proof = try #require(WireAuthentication.proof(token: Fixtures.token, nonce: nonce, chosenVersion: 1,
                                                          identity: Fixtures.exampleWireHello.authenticationIdentity))
        #expect(Self.hex(proof).replacingOccurrences(of: "\n", with: " ") == GoldenBytesTests.exampleProofHex,
                "actual: \(Self.hex(proof))")
    }

    /// Also computed independently with Python's hmac module (docs/PROTOCOL.md shows how).
    @Test func theExampleAuthenticateFrameIsAsDocumented() throws {
        var authenticate = Leakwatch_V1_Authenticate()
        authenticate.proof = .init(Self.bytes(fromHex: Self.exampleProofHex))
        let frame = try FrameEncoder().encode(.authenticate(authenticate))
        #expect(Array(frame.prefix(10)) == Self.bytes(fromHex: "4c 01 03 00 00 00 00 22 0a 20"))
        #expect(Array(frame.dropFirst(10)) == Self.bytes(fromHex: Self.exampleProofHex))
        let agents = try FrameEncoder().encode(Wire.Authenticate(proof: Self.bytes(fromHex: Self.exampleProofHex)))
        #expect(agents == frame)
    }

    static let exampleProofHex =
        "8b 53 5f d8 2f cc 68 9a 6d 03 be 87 11 8d 2b 62 c6 2e 77 f5 2b 12 be 6d 91 f0 fc 1b 4f 8e 5c 1a"
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
