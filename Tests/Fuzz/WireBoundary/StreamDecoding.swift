import LeakWire

/// One stream through a `FrameDecoder`, whole or in chunks, checking the decoder's own promises:
/// it never claims more bytes than it was given, every frame keeps the limits of
/// docs/PROTOCOL.md section 4, and an error is final. Its `FrameParser` reads each frame from
/// the unconsumed bytes at the front of its buffer, as the collector's `WireFrameDecoder` reads
/// it from a `ByteBuffer` (which needs SwiftNIO, so it is not linked here).
struct StreamDecoding {
    enum Outcome: Equatable, CustomStringConvertible {
        /// Every byte became a frame.
        case complete
        /// `finish()` refused the end of the stream, or `nextFrame()` threw.
        case failed(WireError)

        var description: String {
            switch self {
            case .complete: "complete"
            case .failed(let error): "\(error)"
            }
        }
    }

    private(set) var frames: [Frame] = []
    private(set) var outcome = Outcome.complete

    init(_ input: [UInt8], chunking: ChunkSizes?) {
        let limits = WireBoundary.limits
        var decoder = FrameDecoder(limits: limits)
        var chunking = chunking
        var given = 0
        var consumed = 0
        do throws(WireError) {
            while given < input.count {
                let count = min(input.count - given, chunking?.next() ?? input.count)
                let piece = input[given..<given + count]
                // Both ways in: the agent appends raw received bytes, tests append arrays.
                if count & 1 == 0 {
                    piece.withUnsafeBytes { decoder.append($0) }
                } else {
                    decoder.append(piece)
                }
                given += count
                while let frame = try decoder.nextFrame() {
                    Self.checkLimits(frame, limits: limits)
                    frames.append(frame)
                    consumed += frame.wireByteCount
                    invariant(consumed <= given, "decoder returned \(consumed) bytes of frames from \(given) bytes given")
                }
                // Between frames every byte is in a frame or buffered; inside a body, the header
                // has been taken too.
                let unaccounted = given - consumed - decoder.bufferedByteCount
                invariant(unaccounted == 0 || unaccounted == 8,
                          "\(consumed) bytes in frames + \(decoder.bufferedByteCount) buffered, \(given) given")
            }
        } catch {
            outcome = .failed(error)
            // An error of nextFrame() is final: the stream is out of step.
            do throws(WireError) {
                _ = try decoder.nextFrame()
                invariant(false, "nextFrame() after \(error) did not throw")
            } catch let again {
                invariant(again == error, "nextFrame() after \(error) threw \(again)")
            }
        }
        if case .complete = outcome {
            do throws(WireError) {
                try decoder.finish()
            } catch {
                invariant(error == .truncated && decoder.bufferedByteCount + 8 > 0, "finish() threw \(error)")
                outcome = .failed(error)
            }
        }
    }

    /// docs/PROTOCOL.md section 4: the header's length at most 4 MiB, the inflated body at most
    /// min(16 MiB, max(64 KiB, 256 x compressed size)).
    static func checkLimits(_ frame: Frame, limits: WireLimits) {
        let sentBodyBytes = frame.wireByteCount - 8
        invariant(sentBodyBytes >= 0 && sentBodyBytes <= limits.maximumFrameBodyBytes,
                  "\(frame.kind) frame took \(frame.wireByteCount) bytes on the wire")
        let ratioBound = sentBodyBytes.multipliedReportingOverflow(by: limits.maximumInflateRatio)
        let bound = min(limits.maximumInflatedBodyBytes,
                        max(limits.inflateRatioExemptBytes, ratioBound.overflow ? .max : ratioBound.partialValue))
        invariant(frame.body.count <= bound,
                  "\(frame.kind) body of \(sentBodyBytes) bytes inflated to \(frame.body.count), bound \(bound)")
    }
}
