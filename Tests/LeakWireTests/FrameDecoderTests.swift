import LeakTestSupport
import Testing
@testable import LeakWire
@testable import LeakWireCore

@Suite("FrameDecoder")
struct FrameDecoderTests {
    /// Several frames of different kinds, deflated and not, back to back.
    static func stream() throws -> (bytes: [UInt8], messages: [WireMessage]) {
        var ack = Leakwatch_V1_Ack()
        ack.sequence = 9
        var error = Leakwatch_V1_Error()
        error.code = .shuttingDown
        error.message = "bye"
        let messages: [WireMessage] = [
            .hello(Fixtures.exampleHello), .snapshot(Fixtures.exampleSnapshot), .ack(ack),
            .snapshot(RealisticProcess.snapshot(siteCount: 20)), .error(error), .ack(Leakwatch_V1_Ack()),
        ]
        let encoder = FrameEncoder(compression: .automatic(minimumBytes: 64))
        var bytes: [UInt8] = []
        for message in messages { bytes += try encoder.encode(message) }
        return (bytes, messages)
    }

    static func drain(_ decoder: inout FrameDecoder) throws -> [WireMessage] {
        var messages: [WireMessage] = []
        while let frame = try decoder.nextFrame() { messages.append(try WireMessage(frame)) }
        return messages
    }

    @Test func byteByByteAndBatchedInputYieldTheSameFramesWithNothingLeftOver() throws {
        let (bytes, expected) = try Self.stream()
        #expect(bytes.contains { _ in true })

        var whole = FrameDecoder()
        whole.append(bytes)
        #expect(try Self.drain(&whole) == expected)
        #expect(whole.bufferedByteCount == 0)
        try whole.finish()

        var single = FrameDecoder()
        var singleMessages: [WireMessage] = []
        for byte in bytes {
            single.append([byte])
            singleMessages += try Self.drain(&single)
        }
        #expect(singleMessages == expected)
        #expect(single.bufferedByteCount == 0)
        try single.finish()

        for seed in UInt64(1)...20 {
            var random = SplitMix64(seed: seed)
            var batched = FrameDecoder()
            var batchedMessages: [WireMessage] = []
            var offset = 0
            while offset < bytes.count {
                let length = min(bytes.count - offset, Int.random(in: 1...300, using: &random))
                bytes.withUnsafeBytes { batched.append(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + length])) }
                offset += length
                batchedMessages += try Self.drain(&batched)
            }
            #expect(batchedMessages == expected, "seed \(seed)")
            #expect(batched.bufferedByteCount == 0)
            try batched.finish()
        }
    }

    @Test func contextFramesDecodeByteByByteAndBatched() throws {
        var process = RealisticProcess(siteCount: 30)
        let encoder = FrameEncoder(compression: .context(minimumBytes: 64))
        var messages: [WireMessage] = [.hello(Fixtures.exampleHello)]
        for _ in 0..<5 { messages.append(.snapshot(process.nextSnapshot())) }
        messages.append(.ack(Leakwatch_V1_Ack()))
        var bytes: [UInt8] = []
        for message in messages { bytes += try encoder.encode(message) }

        var single = FrameDecoder()
        var decoded: [WireMessage] = []
        for byte in bytes {
            single.append([byte])
            decoded += try Self.drain(&single)
        }
        #expect(decoded == messages)
        try single.finish()

        var random = SplitMix64(seed: 9)
        var batched = FrameDecoder()
        decoded = []
        var offset = 0
        while offset < bytes.count {
            let length = min(bytes.count - offset, Int.random(in: 1...5000, using: &random))
            batched.append(bytes[offset..<offset + length])
            offset += length
            decoded += try Self.drain(&batched)
        }
        #expect(decoded == messages)
        #expect(batched.bufferedByteCount == 0)
        try batched.finish()
    }

    @Test func contextFramesNeedTheEarlierFramesOfTheirStream() throws {
        var process = RealisticProcess(siteCount: 30)
        let encoder = FrameEncoder(compression: .context(minimumBytes: 64))
        let first = try encoder.encode(.snapshot(process.nextSnapshot()))
        let second = try encoder.encode(.snapshot(process.nextSnapshot()))
        #expect(second[3] == 0x03)
        _ = first
        // A decoder that never saw the first frame cannot inflate the second.
        var decoder = FrameDecoder()
        decoder.append(second)
        #expect(throws: WireError.corruptCompressedBody) { try decoder.nextFrame() }
    }

    @Test func contextFlagsAndBodiesAreChecked() throws {
        let body = try WireMessage.snapshot(Fixtures.exampleSnapshot).serializedBody()
        // CONTEXT without DEFLATED.
        var decoder = FrameDecoder()
        decoder.append(FrameHeader(kind: .snapshot, flags: .context, bodyLength: body.count).bytes + body)
        #expect(throws: WireError.reservedFlags) { try decoder.nextFrame() }
        // A CONTEXT body that does not end at a sync flush.
        let cut = Array(FrameEncoder(compression: .context(minimumBytes: 0)).encode(kind: .snapshot, body: body)
            .dropFirst(FrameHeader.byteCount).dropLast(2))
        #expect(throws: WireError.corruptCompressedBody) {
            try FrameDecoder.decodeSingleFrame(
                FrameHeader(kind: .snapshot, flags: [.deflated, .context], bodyLength: cut.count).bytes + cut)
        }
        // A zlib bomb through the stream.
        let bomb = FrameEncoder(compression: .context(minimumBytes: 0))
            .encode(kind: .snapshot, body: [UInt8](repeating: 0, count: 8 << 20))
        #expect(throws: WireError.inflateRatioExceeded) { try FrameDecoder.decodeSingleFrame(bomb) }
    }

    @Test func deflatedFramesAreFlaggedAndSmaller() throws {
        let snapshot = RealisticProcess.snapshot(siteCount: 50)
        let plain = try FrameEncoder(compression: .never).encode(.snapshot(snapshot))
        let deflated = try FrameEncoder().encode(.snapshot(snapshot))
        #expect(plain[3] == 0)
        #expect(deflated[3] == FrameHeader.Flags.deflated.rawValue)
        #expect(deflated.count < plain.count / 3)
        #expect(try WireMessage(FrameDecoder.decodeSingleFrame(deflated)) == .snapshot(snapshot))
    }

    @Test func aStreamEndingInsideAFrameIsTruncated() throws {
        let frame = try FrameEncoder(compression: .never).encode(.hello(Fixtures.exampleHello))
        for cut in [1, 7, 8, frame.count - 1] {
            var decoder = FrameDecoder()
            decoder.append(frame[0..<cut])
            #expect(try decoder.nextFrame() == nil)
            #expect(throws: WireError.truncated) { try decoder.finish() }
        }
    }

    @Test func anOversizedLengthIsRejectedBeforeTheBodyArrives() throws {
        var decoder = FrameDecoder(limits: WireLimits(maximumFrameBodyBytes: 1000))
        decoder.append(FrameHeader(kind: .snapshot, flags: [], bodyLength: 1001).bytes)
        #expect(throws: WireError.frameTooLarge) { try decoder.nextFrame() }
        // Sticky: the stream is out of step, every later call fails the same way.
        decoder.append([0, 0, 0])
        #expect(throws: WireError.frameTooLarge) { try decoder.nextFrame() }

        var atLimit = FrameDecoder(limits: WireLimits(maximumFrameBodyBytes: 1000))
        atLimit.append(FrameHeader(kind: .snapshot, flags: [], bodyLength: 1000).bytes)
        #expect(try atLimit.nextFrame() == nil)
    }

    @Test func headerBytesAreCheckedInWireOrder() throws {
        let good = try FrameEncoder(compression: .never).encode(.ack(Leakwatch_V1_Ack()))
        func rejects(_ index: Int, _ value: UInt8, _ expected: WireError) {
            var bytes = good
            bytes[index] = value
            var decoder = FrameDecoder()
            decoder.append(bytes)
            #expect(throws: expected) { try decoder.nextFrame() }
        }
        rejects(0, 0x47, .badMagic)              // "GET / HTTP/1.1" and friends
        rejects(1, 2, .unsupportedVersion)
        rejects(1, 0, .unsupportedVersion)
        rejects(2, 0, .unknownKind)
        rejects(2, 99, .unknownKind)
        rejects(3, 0x02, .reservedFlags)
        rejects(3, 0x80, .reservedFlags)
    }

    @Test func anHTTPRequestIsNotAFrame() throws {
        var decoder = FrameDecoder()
        decoder.append(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(throws: WireError.badMagic) { try decoder.nextFrame() }
    }

    @Test func framesBeforeABadOneAreAllDelivered() throws {
        let encoder = FrameEncoder()
        var bytes = try encoder.encode(.hello(Fixtures.exampleHello))
        bytes += try encoder.encode(.snapshot(Fixtures.exampleSnapshot))
        bytes += FrameHeader(kind: .snapshot, flags: .deflated, bodyLength: 4).bytes + [1, 2, 3, 4]
        var decoder = FrameDecoder()
        decoder.append(bytes)
        #expect(try WireMessage(#require(try decoder.nextFrame())) == .hello(Fixtures.exampleHello))
        #expect(try WireMessage(#require(try decoder.nextFrame())) == .snapshot(Fixtures.exampleSnapshot))
        #expect(throws: WireError.corruptCompressedBody) { try decoder.nextFrame() }
    }

    static func deflatedFrame(kind: MessageKind, body: [UInt8]) -> [UInt8] {
        let deflated = Zlib.deflate(body)
        return FrameHeader(kind: kind, flags: .deflated, bodyLength: deflated.count).bytes + deflated
    }

    @Test func corruptZlibIsRejected() throws {
        let body = try WireMessage.snapshot(Fixtures.exampleSnapshot).serializedBody()
        let good = Self.deflatedFrame(kind: .snapshot, body: body)
        // Flipped bits inside the deflate stream (the Adler-32 trailer catches what inflate misses).
        var flipped = good
        flipped[FrameHeader.byteCount + 10] ^= 0xFF
        flipped[FrameHeader.byteCount + 11] ^= 0x55
        #expect(throws: WireError.corruptCompressedBody) { try FrameDecoder.decodeSingleFrame(flipped) }
        // A stream cut short, with the header length adjusted so the frame itself is complete.
        let deflated = Zlib.deflate(body)
        let cut = Array(deflated[0..<deflated.count - 6])
        let short = FrameHeader(kind: .snapshot, flags: .deflated, bodyLength: cut.count).bytes + cut
        #expect(throws: WireError.corruptCompressedBody) { try FrameDecoder.decodeSingleFrame(short) }
        // Bytes after the end of the zlib stream.
        let trailing = deflated + [0xAA, 0xBB]
        let extra = FrameHeader(kind: .snapshot, flags: .deflated, bodyLength: trailing.count).bytes + trailing
        #expect(throws: WireError.corruptCompressedBody) { try FrameDecoder.decodeSingleFrame(extra) }
        // An empty deflated body.
        #expect(throws: WireError.corruptCompressedBody) {
            try FrameDecoder.decodeSingleFrame(FrameHeader(kind: .ack, flags: .deflated, bodyLength: 0).bytes)
        }
    }

    @Test func aZlibBombIsRefusedByTheRatioLimit() throws {
        // 8 MiB of zeros deflate to about 8 KiB: a ratio near 1000, under the 16 MiB size limit.
        let bomb = Self.deflatedFrame(kind: .snapshot, body: [UInt8](repeating: 0, count: 8 << 20))
        #expect(bomb.count < 16 << 10)
        #expect(throws: WireError.inflateRatioExceeded) { try FrameDecoder.decodeSingleFrame(bomb) }
    }

    @Test func aBodyInflatingPastTheSizeLimitIsRefused() throws {
        let limits = WireLimits(maximumInflatedBodyBytes: 1 << 20, maximumInflateRatio: 10_000)
        let big = Self.deflatedFrame(kind: .snapshot, body: [UInt8](repeating: 7, count: (1 << 20) + 1))
        #expect(throws: WireError.bodyTooLargeAfterInflate) { try FrameDecoder.decodeSingleFrame(big, limits: limits) }
        let fits = Self.deflatedFrame(kind: .snapshot, body: [UInt8](repeating: 7, count: 1 << 20))
        #expect(try FrameDecoder.decodeSingleFrame(fits, limits: limits).body.count == 1 << 20)
    }

    @Test func smallDeflatedBodiesAreExemptFromTheRatio() throws {
        // 60 KiB of zeros deflate ~1000:1 but stay under the 64 KiB exemption.
        let frame = Self.deflatedFrame(kind: .snapshot, body: [UInt8](repeating: 0, count: 60 << 10))
        #expect(try FrameDecoder.decodeSingleFrame(frame).body.count == 60 << 10)
    }

    @Test func aBodyThatIsNotProtobufIsMalformed() throws {
        // Field 1 as a length-delimited value running past the end of the body.
        let body: [UInt8] = [0x0A, 0x7F, 0x01]
        let frame = FrameHeader(kind: .snapshot, flags: [], bodyLength: body.count).bytes + body
        let decoded = try FrameDecoder.decodeSingleFrame(frame)
        #expect(throws: WireError.malformedMessage) { try WireMessage(decoded) }
    }
}
