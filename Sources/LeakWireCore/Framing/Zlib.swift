import CZlib

/// zlib (RFC 1950) deflate and bounded inflate over the system libz.
enum Zlib {
    /// Deflates `input` at the default level.
    static func deflate(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        var outputLength = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(outputLength))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress, &outputLength, source.baseAddress, uLong(source.count), level)
            }
        }
        // compress2 only fails for lack of memory or a bad level: both programming errors
        // given compressBound, so fail loudly rather than send a wrong frame.
        precondition(status == Z_OK, "compress2 failed with \(status)")
        output.removeSubrange(Int(outputLength)...)
        return output
    }

    /// Inflates a zlib stream, refusing to produce more than the limits allow.
    ///
    /// Output grows a chunk at a time, so a zlib bomb costs at most the limit plus one chunk
    /// of memory before it is refused.
    static func inflate(_ input: [UInt8], limits: WireLimits) throws -> [UInt8] {
        let limit = limits.inflatedLimit(compressedBytes: input.count)
        let chunkBytes = 32 << 10
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw WireError.corruptCompressedBody.with("inflateInit failed")
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        let result: Result<Void, WireError> = input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunkBytes - Int(stream.avail_out)
                if output.count + produced > limit {
                    return .failure(limitError(limits: limits, compressedBytes: input.count, limit: limit))
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    guard stream.avail_in == 0 else {
                        return .failure(WireError.corruptCompressedBody.with(
                            "\(stream.avail_in) bytes after the end of the zlib stream"))
                    }
                    return .success(())
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .failure(WireError.corruptCompressedBody.with("zlib stream ends before its end marker"))
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    return .failure(WireError.corruptCompressedBody.with("zlib: \(reason)"))
                }
            }
        }
        try result.get()
        return output
    }

    static func limitError(limits: WireLimits, compressedBytes: Int, limit: Int) -> WireError {
        if limit >= limits.maximumInflatedBodyBytes {
            return WireError.bodyTooLargeAfterInflate.with(
                "deflated body of \(compressedBytes) bytes inflates beyond \(limits.maximumInflatedBodyBytes) bytes")
        }
        return WireError.inflateRatioExceeded.with(
            "deflated body of \(compressedBytes) bytes inflates beyond \(limit) bytes "
                + "(ratio limit \(limits.maximumInflateRatio)): refusing a likely zlib bomb")
    }
}
