import CZlib

/// zlib (RFC 1950) deflate and bounded inflate over the system libz.
public enum Zlib {
    /// `input` deflated in one call: a zlib stream (`windowBits` 15) or, with 31, a gzip file
    /// (RFC 1952 header and trailer, what pprof readers expect of a `.pb.gz`).
    public static func deflate(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION, windowBits: Int32 = 15) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        // Fails only for lack of memory or bad constants: a programming error, not a wrong frame.
        precondition(status == Z_OK, "deflateInit2 failed with \(status)")
        defer { deflateEnd(&stream) }
        // deflateBound covers zlib's header; a gzip header and trailer are 18 bytes.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let produced = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let result = CZlib.deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate did not finish within deflateBound: \(result)")
                return out.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Inflates a zlib stream, refusing to produce more than the limits allow.
    static func inflate(_ input: UnsafeRawBufferPointer, limits: WireLimits) throws(WireError) -> [UInt8] {
        let limit = limits.inflatedLimit(compressedBytes: input.count)
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw WireError.corruptCompressedBody.with("inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 32 << 10)
        let stop = BoundedInflate.run(&stream, input: input.assumingMemoryBound(to: UInt8.self), flush: Z_NO_FLUSH,
                                      chunk: &chunk, limit: limit, into: &output)
        switch stop {
        case .streamEnd(unusedInput: 0):
            return output
        case .streamEnd(let unused):
            throw WireError.corruptCompressedBody.with("\(unused) bytes after the end of the zlib stream")
        case .inputConsumed:
            throw WireError.corruptCompressedBody.with("zlib stream ends before its end marker")
        case .overLimit:
            throw limitError(limits: limits, compressedBytes: input.count, limit: limit)
        case .failed(let reason):
            throw WireError.corruptCompressedBody.with("zlib: \(reason)")
        }
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
