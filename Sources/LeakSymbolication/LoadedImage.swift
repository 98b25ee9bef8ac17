@_spi(Internal) import Runtime

/// One of the process's loaded objects with its load bias, as the dynamic loader knows it.
///
/// The Runtime's own `ImageMap.capture()` reads /proc/self/maps, takes each object's lowest
/// mapping for its base and adds the program headers' virtual addresses to it: right for PIE
/// programs and shared libraries (first vaddr 0), wrong for an ET_EXEC program (mapped at
/// 0x400000, bias 0), whose notes it then reads at twice their address and faults. So the map the
/// symbolizer uses is built here and handed to the Runtime in its own
/// serialization, the Compact ImageMap Format (docs/CompactImageMapFormat.md in the Swift
/// repository), checked image by image after decoding.
public struct LoadedImage: Equatable, Sendable {
    public var path: String
    /// An address minus this is the object's own virtual address (what addr2line takes).
    public var loadBias: UInt64
    /// Where its first segment is loaded: the base the Runtime's symbol lookup counts from.
    public var mappedStart: UInt64
    public var endOfText: UInt64
    public var buildID: [UInt8]

    public var name: Substring { path.split(separator: "/").last ?? Substring(path) }

    public var buildIDText: String? {
        buildID.isEmpty ? nil : buildID.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    public init(path: String, loadBias: UInt64, mappedStart: UInt64, endOfText: UInt64, buildID: [UInt8]) {
        self.path = path
        self.loadBias = loadBias
        self.mappedStart = mappedStart
        self.endOfText = endOfText
        self.buildID = buildID
    }

}

/// The loaded images and the Runtime's map of the same images, index for index.
public struct ProcessImages: Sendable {
    public let images: [LoadedImage]
    /// nil when the Runtime would not take the map (see `ImageMap.of`): no symbols, offsets still.
    let map: ImageMap?

    /// `images` sorted by `mappedStart`.
    public init(images: [LoadedImage]) {
        self.images = images
        map = ImageMap.of(images)
    }

    /// The image whose first segment starts at or below `address` and whose code ends above it.
    public func index(holding address: UInt64) -> Int? {
        var low = 0, high = images.count
        while low < high {
            let middle = (low + high) / 2
            if images[middle].mappedStart <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0, address < images[low - 1].endOfText else { return nil }
        return low - 1
    }
}

extension ImageMap {
    /// The Runtime's image map of exactly these images (sorted by address);
    /// nil when the Runtime decodes it differently (a format change in a later toolchain): the
    /// addresses then stay unsymbolized, and never fall back to the capture that faults.
    static func of(_ images: [LoadedImage]) -> ImageMap? {
        guard let map = ImageMap(compactImageMapData: CompactImageMap.encode(images)), map.holds(images) else { return nil }
        return map
    }

    private func holds(_ images: [LoadedImage]) -> Bool {
        count == images.count && zip(self, images).allSatisfy { decoded, image in
            decoded.path == image.path && UInt64(decoded.baseAddress) == image.mappedStart
                && UInt64(decoded.endOfText) == image.endOfText && (decoded.uniqueID ?? []) == image.buildID
        }
    }
}

/// Version 0 of the Compact ImageMap Format as the Swift 6 runtime reads it: 64-bit words, no
/// platform name, absolute addresses, paths as raw string chunks (the prefix compression is
/// optional for an encoder).
enum CompactImageMap {
    static func encode(_ images: [LoadedImage]) -> [UInt8] {
        let versionZeroSixtyFourBitWords: UInt8 = 0b10
        let emptyPlatformName: UInt8 = 0
        var bytes: [UInt8] = [versionZeroSixtyFourBitWords, emptyPlatformName]
        appendCount(images.count, to: &bytes)
        for image in images {
            let eightByteBaseAndEightByteEnd: UInt8 = 0b0011_1111
            bytes.append(eightByteBaseAndEightByteEnd)
            appendWord(image.mappedStart, to: &bytes)
            appendWord(image.endOfText &- image.mappedStart, to: &bytes)
            appendCount(image.buildID.count, to: &bytes)
            bytes += image.buildID
            appendPath(image.path, to: &bytes)
        }
        return bytes
    }

    /// Seven bits a byte, most significant first, the top bit set on all but the last.
    private static func appendCount(_ count: Int, to bytes: inout [UInt8]) {
        var groups = [UInt8(count & 0x7f)]
        var rest = count >> 7
        while rest > 0 {
            groups.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes += groups.reversed()
    }

    private static func appendWord(_ word: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
    }

    /// `str` opcodes of at most 63 bytes each, then `end`.
    private static func appendPath(_ path: String, to bytes: inout [UInt8]) {
        let longestChunk = 0x3f
        var rest = Array(path.utf8)[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(longestChunk)
            bytes.append(UInt8(chunk.count))
            bytes += chunk
            rest = rest.dropFirst(chunk.count)
        }
        bytes.append(0)
    }
}
