import Testing
@testable import LeakWire
@testable import LeakWireCore

/// The handshake's HMAC-SHA256 comes from libcrypto, on the agent's side and the collector's.
@Suite("HMAC-SHA256 (libcrypto)")
struct HMACTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let codeHex: String
        var testDescription: String { name }
    }

    /// RFC 4231, section 4 (test case 5 truncates the output, which the wire never does).
    static let rfc4231: [Vector] = [
        Vector(name: "RFC 4231 case 1", key: Array(repeating: 0x0B, count: 20), message: Array("Hi There".utf8),
               codeHex: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(name: "RFC 4231 case 2", key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8),
               codeHex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(name: "RFC 4231 case 3", key: Array(repeating: 0xAA, count: 20), message: Array(repeating: 0xDD, count: 50),
               codeHex: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Vector(name: "RFC 4231 case 4", key: Array(1...25), message: Array(repeating: 0xCD, count: 50),
               codeHex: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        Vector(name: "RFC 4231 case 6", key: Array(repeating: 0xAA, count: 131),
               message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
               codeHex: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(name: "RFC 4231 case 7", key: Array(repeating: 0xAA, count: 131),
               message: Array(("This is a test using a larger than block-size key and a larger than block-size data. "
                                   + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
               codeHex: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        // An agent without a token, shipping to a collector run with --insecure-no-auth (Python's hmac).
        Vector(name: "empty key", key: [], message: Array("leakwatch-auth-v1".utf8),
               codeHex: "4d1f0834e357060a6102624c70a05ebf9bcd15a5357cad499ebdaaea25b20ab3"),
    ]

    @Test(arguments: rfc4231)
    func knownVectors(_ vector: Vector) throws {
        let code = try #require(HMACSHA256.authenticationCode(key: vector.key, message: vector.message))
        #expect(code.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() == vector.codeHex)
    }

    @Test func theAgentsProofIsWhatTheCollectorChecks() throws {
        let nonce = (0..<32).map { UInt8(255 - $0) }
        for token in [Fixtures.token, [], Array(repeating: 0x5A, count: 200)] {
            let proof = try #require(WireAuthentication.proof(
                token: token, nonce: nonce, chosenVersion: 1, identity: Fixtures.exampleWireHello.authenticationIdentity))
            var server = ServerHandshake(configuration: .init(token: token), nonce: nonce)
            guard case .send = server.receive(.hello(Fixtures.exampleHello)) else { Issue.record("no challenge"); continue }
            guard case .authenticated = server.receive(.authenticate(.with { $0.proof = .init(proof) })) else {
                Issue.record("the collector refused the agent's proof for a token of \(token.count) bytes"); continue
            }
        }
    }

    @Test func proofsAreComparedWholly() {
        let code = HMACSHA256.authenticationCode(key: [1], message: [2])!
        #expect(HMACSHA256.constantTimeEquals(code, code))
        for index in code.indices {
            var changed = code
            changed[index] ^= 0x01
            #expect(!HMACSHA256.constantTimeEquals(code, changed), "a change at byte \(index) went unseen")
        }
        #expect(!HMACSHA256.constantTimeEquals(code, Array(code.dropLast())))
        #expect(HMACSHA256.constantTimeEquals([], []))
    }
}
