import CZlib
import LeakWire

/// gzip (RFC 1952) through zlib: deflateInit2 with windowBits 15 + 16 writes the gzip header
/// and trailer, which is what pprof readers expect of a `.pb.gz`.
public enum Gzip {
    static let gzipWindowBits: Int32 = 31
    /// Accepts zlib or gzip when inflating (windowBits 15 + 32: automatic header detection).
    static let autoWindowBits: Int32 = 47

    public static func compress(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        Zlib.deflate(input, level: level, windowBits: gzipWindowBits)
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
        let stop = input.withUnsafeBufferPointer { source in
            BoundedInflate.run(&stream, input: source, flush: Z_NO_FLUSH, chunk: &chunk, limit: maximumBytes, into: &output)
        }
        switch stop {
        case .streamEnd:
            return output
        case .inputConsumed:
            throw DecompressionError(description: "the gzip stream ends before its end marker")
        case .overLimit:
            throw DecompressionError(description: "output beyond \(maximumBytes) bytes")
        case .failed(let reason):
            throw DecompressionError(description: "inflate failed: \(reason)")
        }
    }
}
