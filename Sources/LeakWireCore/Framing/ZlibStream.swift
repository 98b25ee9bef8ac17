import CZlib

/// One sender's zlib stream that lives as long as the connection ("context takeover"): each
/// CONTEXT frame's body is the next piece of the stream, ending in a sync flush
/// (`00 00 ff ff`). A snapshot then compresses against the previous one, which is mostly
/// the same sites with slightly different numbers.
final class DeflateStream {
    private var stream = z_stream()
    private var chunk = [UInt8](repeating: 0, count: 16 << 10)

    init() {
        // memLevel 8, window 32 KiB: about 256 KiB of zlib state per connection.
        let status = deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed with \(status)")
    }

    deinit { deflateEnd(&stream) }

    func deflate(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            repeat {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return CZlib.deflate(&stream, Z_SYNC_FLUSH)
                }
                precondition(status == Z_OK || status == Z_BUF_ERROR, "deflate failed with \(status)")
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
            } while stream.avail_in > 0 || stream.avail_out == 0
        }
        stream.next_in = nil
        stream.next_out = nil
        return output
    }
}

/// The receiving end of a `DeflateStream`, bounded like a standalone inflate. Owned by one
/// `FrameParser`; a class only so that the `z_stream` never moves (zlib's state records its address).
final class InflateStream {
    private var stream = z_stream()
    private var chunk = [UInt8](repeating: 0, count: 32 << 10)
    static let syncFlushMarker: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    init() throws(WireError) {
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw WireError.corruptCompressedBody.with("inflateInit failed")
        }
    }

    deinit { inflateEnd(&stream) }

    func inflate(_ input: UnsafeRawBufferPointer, limits: WireLimits) throws(WireError) -> [UInt8] {
        guard input.count >= 4, input.suffix(4).elementsEqual(Self.syncFlushMarker) else {
            throw WireError.corruptCompressedBody.with("CONTEXT frame body does not end at a zlib sync flush (00 00 ff ff)")
        }
        let limit = limits.inflatedLimit(compressedBytes: input.count)
        var output: [UInt8] = []
        let stop = BoundedInflate.run(&stream, input: input.assumingMemoryBound(to: UInt8.self), flush: Z_SYNC_FLUSH,
                                      chunk: &chunk, limit: limit, into: &output)
        switch stop {
        case .inputConsumed:
            return output
        case .streamEnd:
            throw WireError.corruptCompressedBody.with("a CONTEXT frame ended the connection's zlib stream")
        case .overLimit:
            throw Zlib.limitError(limits: limits, compressedBytes: input.count, limit: limit)
        case .failed(let reason):
            throw WireError.corruptCompressedBody.with("zlib: \(reason)")
        }
    }
}
