import CZlib

/// The one inflate loop of the package: a zlib or gzip stream inflated a chunk at a time, the
/// output refused as soon as it would pass a limit, so a zlib bomb costs at most the limit plus
/// one chunk of memory. Its callers (a standalone body, a connection's stream, a gzip file) say
/// what the way it stopped means.
public enum BoundedInflate {
    public enum Stop: Equatable {
        /// The stream's end marker, with this many input bytes after it.
        case streamEnd(unusedInput: Int)
        /// Every input byte consumed and every output byte delivered, the stream not ended.
        case inputConsumed
        /// Going on would pass the limit.
        case overLimit
        /// zlib's own error, with its message.
        case failed(String)
    }

    /// Inflates `input` through `stream` (initialized by the caller) with `flush`, appending to
    /// `output`, which may already hold earlier pieces of the same stream, up to `limit` bytes in all.
    public static func run(_ stream: inout z_stream, input: UnsafeBufferPointer<UInt8>, flush: Int32,
                           chunk: inout [UInt8], limit: Int, into output: inout [UInt8]) -> Stop {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
        stream.avail_in = uInt(input.count)
        defer {
            stream.next_in = nil
            stream.next_out = nil
        }
        let chunkBytes = chunk.count
        while true {
            let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                return inflate(&stream, flush)
            }
            let produced = chunkBytes - Int(stream.avail_out)
            if output.count + produced > limit { return .overLimit }
            output.append(contentsOf: chunk[0..<produced])
            switch status {
            case Z_STREAM_END:
                return .streamEnd(unusedInput: Int(stream.avail_in))
            case Z_OK where stream.avail_in == 0 && stream.avail_out > 0, Z_BUF_ERROR where stream.avail_in == 0:
                return .inputConsumed
            case Z_OK:
                continue
            default:
                return .failed(stream.msg.map { String(cString: $0) } ?? "status \(status)")
            }
        }
    }
}
