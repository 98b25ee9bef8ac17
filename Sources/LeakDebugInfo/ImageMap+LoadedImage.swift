import LeakSymbolication
@_spi(Internal) import Runtime

// The Runtime's own `ImageMap.capture()` reads /proc/self/maps, takes each object's lowest mapping
// for its base and adds the program headers' virtual addresses to it: right for PIE programs and
// shared libraries (first vaddr 0), wrong for an ET_EXEC program (mapped at 0x400000, bias 0), whose
// notes it then reads at twice their address and faults. So the map is built from the agent's
// `LoadedImage`s and handed to the Runtime in its own serialization, the Compact ImageMap Format
// (docs/CompactImageMapFormat.md in the Swift repository), checked image by image after decoding.

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
