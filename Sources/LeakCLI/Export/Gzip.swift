import CZlib

/// gzip (RFC 1952) through zlib: deflateInit2 with windowBits 15 + 16 writes the gzip header
/// and trailer, which is what pprof readers expect of a `.pb.gz`.
public enum Gzip {
    static let gzipWindowBits: Int32 = 31
    /// Accepts zlib or gzip when inflating (windowBits 15 + 32: automatic header detection).
    static let autoWindowBits: Int32 = 47

    public static func compress(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        // deflateInit2 fails only for lack of memory or bad constants: a programming error.
        precondition(status == Z_OK, "deflateInit2 failed with \(status)")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let produced = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate did not finish within deflateBound: \(result)")
                return out.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }

    public struct DecompressionError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Inflates a gzip (or zlib) stream; for tests and for reading exports back.
    public static func decompress(_ input: [UInt8], maximumBytes: Int = 1 << 30) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, autoWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DecompressionError(description: "inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                guard output.count <= maximumBytes else { throw DecompressionError(description: "output beyond \(maximumBytes) bytes") }
                if status == Z_STREAM_END { return }
                guard status == Z_OK else { throw DecompressionError(description: "inflate failed with \(status)") }
            }
        }
        return output
    }
}
