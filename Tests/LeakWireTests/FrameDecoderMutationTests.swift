import LeakTestSupport
import Testing
@testable import LeakWire
@testable import LeakWireCore

/// Whatever bytes arrive, the decoder returns frames, asks for more, or throws a WireError:
/// it never crashes, never loops, never allocates beyond its limits.
@Suite("FrameDecoder under mutation")
struct FrameDecoderMutationTests {
    static func validStream() throws -> [UInt8] {
        var process = RealisticProcess(siteCount: 10)
        let context = FrameEncoder(compression: .context(minimumBytes: 64))
        let plain = FrameEncoder(compression: .automatic(minimumBytes: 64))
        var bytes = try plain.encode(.hello(Fixtures.exampleHello))
        for _ in 0..<3 { bytes += try context.encode(.snapshot(process.nextSnapshot())) }
        bytes += try plain.encode(.snapshot(process.nextSnapshot()))
        return bytes
    }

    static func decodeAll(_ bytes: [UInt8], limits: WireLimits) -> (frames: Int, error: WireError?) {
        var decoder = FrameDecoder(limits: limits)
        decoder.append(bytes)
        var frames = 0
        do throws(WireError) {
            while let frame = try decoder.nextFrame() {
                frames += 1
                _ = try? WireMessage(frame)
            }
            try decoder.finish()
            return (frames, nil)
        } catch {
            return (frames, error)
        }
    }

    @Test func mutatedStreamsFailCleanly() throws {
        let valid = try Self.validStream()
        let limits = WireLimits(maximumFrameBodyBytes: 1 << 20, maximumInflatedBodyBytes: 4 << 20)
        #expect(Self.decodeAll(valid, limits: limits) == (5, nil))
        var random = SplitMix64(seed: 2026)
        var outcomes: [String: Int] = [:]
        for _ in 0..<400 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                default: bytes.removeSubrange(index..<min(bytes.count, index + Int.random(in: 1...64, using: &random)))
                }
                if bytes.isEmpty { break }
            }
            let (_, error) = Self.decodeAll(bytes, limits: limits)
            outcomes[error.map { "\($0)".split(separator: ":").first.map(String.init) ?? "" } ?? "decoded", default: 0] += 1
        }
        print("mutated streams:", outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(outcomes.values.reduce(0, +) == 400)
    }

    @Test func randomBytesFailCleanly() {
        var random = SplitMix64(seed: 7)
        for length in [1, 7, 8, 9, 100, 5000] {
            for _ in 0..<200 {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                if Bool.random(using: &random) { bytes[0] = FrameHeader.magic; if length > 1 { bytes[1] = 1 } }
                _ = Self.decodeAll(bytes, limits: .default)
            }
        }
    }
}
