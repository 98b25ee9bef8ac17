/// The request the agent writes to `leakwatch-symbolizer`'s stdin and the answer it reads back
/// from its stdout: one of each per run. Integers little-endian, strings and lists length-prefixed
/// (u32). A different build of the program answers a different magic, and the agent then leaves
/// its frames unsymbolized (`module+0xoffset`).
public struct SymbolizationRequest: Equatable, Sendable {
    public var images: [LoadedImage]
    public var addresses: [UInt64]

    public init(images: [LoadedImage], addresses: [UInt64]) {
        self.images = images
        self.addresses = addresses
    }
}

public struct SymbolizerExchangeError: Error, Equatable, CustomStringConvertible {
    public var description: String
}

public enum SymbolizerExchange {
    static let requestMagic = Array("leakwatch-symbolize-v1\n".utf8)
    static let answerMagic = Array("leakwatch-symbols-v1\n".utf8)

    public static func encode(_ request: SymbolizationRequest) -> [UInt8] {
        var writer = ByteWriter(requestMagic)
        writer.append(UInt32(request.images.count))
        for image in request.images {
            writer.append(image.path)
            writer.append(image.loadBias)
            writer.append(image.mappedStart)
            writer.append(image.endOfText)
            writer.append(image.buildID)
        }
        writer.append(UInt32(request.addresses.count))
        for address in request.addresses { writer.append(address) }
        return writer.bytes
    }

    public static func decodeRequest(_ bytes: [UInt8]) throws -> SymbolizationRequest {
        var reader = try ByteReader(bytes, magic: requestMagic)
        let images = try (0..<reader.count()).map { _ in
            LoadedImage(path: try reader.string(), loadBias: try reader.word(), mappedStart: try reader.word(),
                        endOfText: try reader.word(), buildID: try reader.byteString())
        }
        let addresses = try (0..<reader.count()).map { _ in try reader.word() }
        try reader.expectEnd()
        return SymbolizationRequest(images: images, addresses: addresses)
    }

    /// The frames of each address, in the request's order.
    public static func encode(answer: [[SymbolizedFrame]]) -> [UInt8] {
        var writer = ByteWriter(answerMagic)
        writer.append(UInt32(answer.count))
        for frames in answer {
            writer.append(UInt32(frames.count))
            for frame in frames {
                writer.append(frame.function)
                writer.append(frame.file ?? "")
                writer.append(UInt32(clamping: frame.line ?? 0))
                writer.append(frame.image)
                writer.append(frame.isInlined ? 1 as UInt32 : 0)
                writer.append(frame.buildID ?? "")
            }
        }
        return writer.bytes
    }

    public static func decodeAnswer(_ bytes: [UInt8]) throws -> [[SymbolizedFrame]] {
        var reader = try ByteReader(bytes, magic: answerMagic)
        let answer = try (0..<reader.count()).map { _ in
            try (0..<reader.count()).map { _ in
                let function = try reader.string()
                let file = try reader.string()
                let line = try reader.uint32()
                let image = try reader.string()
                let isInlined = try reader.uint32() != 0
                let buildID = try reader.string()
                return SymbolizedFrame(function: function, file: file.isEmpty ? nil : file, line: line == 0 ? nil : Int(line),
                                       image: image, isInlined: isInlined, buildID: buildID.isEmpty ? nil : buildID)
            }
        }
        try reader.expectEnd()
        return answer
    }
}

private struct ByteWriter {
    var bytes: [UInt8]

    init(_ magic: [UInt8]) { bytes = magic }

    mutating func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func append(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }

    mutating func append(_ value: [UInt8]) {
        append(UInt32(value.count))
        bytes += value
    }

    mutating func append(_ value: String) { append(Array(value.utf8)) }
}

private struct ByteReader {
    private let bytes: [UInt8]
    private var position: Int

    init(_ bytes: [UInt8], magic: [UInt8]) throws {
        guard bytes.starts(with: magic) else {
            throw SymbolizerExchangeError(description: "not a leakwatch-symbolizer message of this version")
        }
        self.bytes = bytes
        position = magic.count
    }

    mutating func uint32() throws -> UInt32 { UInt32(truncatingIfNeeded: try little(byteCount: 4)) }
    mutating func word() throws -> UInt64 { try little(byteCount: 8) }

    /// A list's length, checked against what is left so that a corrupt one cannot ask for a
    /// huge allocation.
    mutating func count() throws -> Int {
        let count = Int(try uint32())
        guard count <= bytes.count - position else { throw truncated() }
        return count
    }

    mutating func byteString() throws -> [UInt8] {
        let count = try count()
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func string() throws -> String { String(decoding: try byteString(), as: UTF8.self) }

    func expectEnd() throws {
        guard position == bytes.count else {
            throw SymbolizerExchangeError(description: "\(bytes.count - position) bytes after the end of the message")
        }
    }

    private mutating func little(byteCount: Int) throws -> UInt64 {
        guard bytes.count - position >= byteCount else { throw truncated() }
        defer { position += byteCount }
        return bytes[position..<position + byteCount].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func truncated() -> SymbolizerExchangeError {
        SymbolizerExchangeError(description: "message truncated at byte \(position) of \(bytes.count)")
    }
}
