/// One of the process's loaded objects with its load bias, as the dynamic loader knows it.
///
/// Read from the loader's list by the agent (LoadedImage+Reading), never from the Swift Runtime's
/// `ImageMap.capture()`, which gets ET_EXEC programs wrong (see LeakDebugInfo's ImageMap+LoadedImage).
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

/// The process's loaded images, sorted by address.
public struct ProcessImages: Sendable {
    public let images: [LoadedImage]

    /// `images` sorted by `mappedStart`.
    public init(images: [LoadedImage]) {
        self.images = images
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

    /// The frame an address gets before (or without) its symbols: `module+0xoffset` with the
    /// module's build-id, the offset being the object's own virtual address — what addr2line or
    /// llvm-symbolizer resolve later against the binary's debug file, the same in every process;
    /// the address in hex when no loaded image holds it.
    public func unsymbolizedFrame(forReturnAddress address: UInt64) -> SymbolizedFrame {
        guard let index = index(holding: address) else { return SymbolizedFrame(function: hex(address), image: "?") }
        return images[index].unsymbolizedFrame(forReturnAddress: address)
    }
}

extension LoadedImage {
    public func unsymbolizedFrame(forReturnAddress address: UInt64) -> SymbolizedFrame {
        SymbolizedFrame(function: "\(name)+\(hex(address - loadBias))", image: String(name), buildID: buildIDText)
    }
}

func hex(_ address: UInt64) -> String { "0x" + String(address, radix: 16) }
