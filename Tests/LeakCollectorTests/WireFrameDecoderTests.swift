import LeakTestSupport
import LeakWire
import NIOCore
import NIOEmbedded
import Testing
@testable import LeakCollector

/// The collector's framing, in a pipeline of its own: frames come out of the channel's
/// `ByteBuffer` however the bytes are cut, and the bytes of a partial frame are held in the
/// server's inbound budget until the frame completes.
@Suite struct WireFrameDecoderTests {
    /// A Hello, then snapshots as an agent sends them (CONTEXT frames of one zlib stream)
    /// between a plain Ack and a DEFLATED one.
    static func agentStream() throws -> (bytes: [UInt8], messages: [WireMessage]) {
        var messages: [WireMessage] = [.hello(.with { $0.supportedVersions = [1]; $0.role = .agent; $0.hostName = "host-a" })]
        for sequence in UInt64(1)...6 {
            messages.append(.snapshot(.with { snapshot in
                snapshot.sequence = sequence
                snapshot.sites = (0..<40).map { site in .with {
                    $0.stackID = UInt64(site + 1)
                    $0.liveBytes = UInt64(10_000 * site) + sequence * 512
                    $0.liveObjects = UInt64(site) + sequence
                } }
            }))
        }
        messages.append(.ack(.with { $0.sequence = 6 }))
        let context = FrameEncoder(compression: .context(minimumBytes: 256))
        let deflated = FrameEncoder(compression: .always)
        var bytes: [UInt8] = []
        for (index, message) in messages.enumerated() {
            bytes += try (index == messages.count - 1 ? deflated : context).encode(message)
        }
        bytes += try FrameEncoder(compression: .never).encode(.ack(.with { $0.sequence = 7 }))
        messages.append(.ack(.with { $0.sequence = 7 }))
        return (bytes, messages)
    }

    /// A channel whose only handler is the decoder, with its account in `budget`.
    static func channel(limits: WireLimits = .default, budget: InboundByteBudget) throws -> EmbeddedChannel {
        let decoder = WireFrameDecoder(limits: limits, account: budget.openAccount())
        return EmbeddedChannel(handler: ByteToMessageHandler(decoder))
    }

    static func write(_ bytes: ArraySlice<UInt8>, to channel: EmbeddedChannel) throws -> [WireMessage] {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        var messages: [WireMessage] = []
        while let frame = try channel.readInbound(as: Frame.self) { messages.append(try WireMessage(frame)) }
        return messages
    }

    @Test func byteByByteAndBatchedInputYieldTheSameFramesWithNothingLeftOver() throws {
        let (bytes, expected) = try Self.agentStream()
        var cuts: [[Int]] = [[bytes.count], Array(repeating: 1, count: bytes.count)]
        for seed in UInt64(1)...10 {
            var random = SplitMix64(seed: seed)
            var lengths: [Int] = []
            while lengths.reduce(0, +) < bytes.count { lengths.append(Int.random(in: 1...700, using: &random)) }
            cuts.append(lengths)
        }
        for lengths in cuts {
            let budget = InboundByteBudget(limitBytes: 1 << 20)
            let channel = try Self.channel(budget: budget)
            var decoded: [WireMessage] = []
            var offset = 0
            for length in lengths where offset < bytes.count {
                let end = min(bytes.count, offset + length)
                decoded += try Self.write(bytes[offset..<end], to: channel)
                offset = end
            }
            #expect(decoded == expected, "\(lengths.count) pieces")
            #expect(budget.totalBytes == 0)
            #expect(try channel.finish().isClean)
        }
    }

    @Test func aPartialFrameIsHeldInTheBudgetUntilItCompletes() throws {
        let (bytes, _) = try Self.agentStream()
        var reference = FrameDecoder()
        reference.append(bytes)
        let helloByteCount = try reference.nextFrame()?.wireByteCount ?? 0
        let budget = InboundByteBudget(limitBytes: 1 << 20)
        let channel = try Self.channel(budget: budget)
        // The Hello and 100 bytes of the first snapshot: only those 100 are held.
        let held = helloByteCount + 100
        #expect(try Self.write(bytes[0..<held], to: channel).count == 1)
        #expect(budget.totalBytes == 100)
        _ = try Self.write(bytes[held...], to: channel)
        #expect(budget.totalBytes == 0)
        #expect(try channel.finish().isClean)
    }

    @Test func anOversizedLengthIsRefusedBeforeTheBodyArrives() throws {
        let channel = try Self.channel(limits: WireLimits(maximumFrameBodyBytes: 1000), budget: InboundByteBudget(limitBytes: 1 << 20))
        let header = FrameHeader(kind: .snapshot, flags: [], bodyLength: 1001).bytes
        #expect(throws: WireError.frameTooLarge) { try Self.write(header[...], to: channel) }
        _ = try? channel.finish()
    }

    @Test func aStreamEndingInsideAFrameIsTruncated() throws {
        let (bytes, _) = try Self.agentStream()
        let channel = try Self.channel(budget: InboundByteBudget(limitBytes: 1 << 20))
        #expect(try Self.write(bytes[0..<5], to: channel).isEmpty)
        #expect(throws: WireError.truncated) { try channel.finish() }
    }
}
