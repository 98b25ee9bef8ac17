import CRustDemangle
@_spi(Internal) import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Return addresses to demangled, file:line-annotated frames, inlined frames expanded, from the
/// images' symbol tables and DWARF.
///
/// This reads and keeps the debug information of every image it is asked about, tens of megabytes
/// for a large Swift server: the agent runs it in `leakwatch-symbolizer`, a process of its own
/// that exits when done, and here only when that program is not installed.
public enum Symbolication {
    /// Frames for one return address of a process whose images are `images`, innermost
    /// (inlined) first.
    public static func frames(forReturnAddress address: UInt64, in images: ProcessImages) -> [SymbolizedFrame] {
        guard let index = images.index(holding: address) else { return [unknownFrame(address)] }
        return frames(forReturnAddress: address, in: images.images[index], map: images.map)
    }

    /// A frame no symbol covers (a stripped binary) is named `module+0xoffset`, the offset being
    /// the object's own virtual address, with its build-id: what addr2line or llvm-symbolizer
    /// resolve later against the binary's debug file, and the same in every process.
    private static func frames(forReturnAddress address: UInt64, in image: LoadedImage, map: ImageMap?) -> [SymbolizedFrame] {
        let unsymbolized = SymbolizedFrame(function: "\(image.name)+\(hex(address - image.loadBias))", image: String(image.name),
                                           buildID: image.buildIDText)
        guard let map else { return [unsymbolized] }
        let backtrace = Backtrace(architecture: architecture, frames: [RichFrame<UInt64>.returnAddress(address)],
                                  images: map)
        let options: Backtrace.SymbolicationOptions = [.showInlineFrames, .showSourceLocations, .useSymbolCache]
        guard let symbolicated = backtrace.symbolicated(with: map, options: options),
              !symbolicated.frames.isEmpty else {
            return [unsymbolized]
        }
        return symbolicated.frames.filter(\.isCode).map { frame in
            guard let symbol = frame.symbol, symbol.name != "<unknown>" else {
                var frameWithoutSymbol = unsymbolized
                frameWithoutSymbol.isInlined = frame.inlined
                return frameWithoutSymbol
            }
            let location = symbol.sourceLocation
            return SymbolizedFrame(
                function: rustName(symbol.rawName) ?? symbol.name,
                file: location.map(\.path).flatMap { $0.isEmpty || $0 == "<unknown>" ? nil : $0 },
                line: location.map(\.line).flatMap { $0 > 0 ? $0 : nil },
                image: symbol.imageName,
                isInlined: frame.inlined
            )
        }
    }

    /// Rust's names, which the Runtime takes for C++ (legacy: `…::h5f3a…` and `$LT$` escapes) or
    /// leaves mangled (v0); nil for any other symbol.
    private static func rustName(_ rawName: String) -> String? {
        guard let demangled = lw_demangle_rust(rawName) else { return nil }
        defer { free(demangled) }
        return String(cString: demangled)
    }

    private static var architecture: String {
        #if arch(x86_64)
        "x86_64"
        #elseif arch(arm64)
        "arm64"
        #else
        "unknown"
        #endif
    }

    public static func unknownFrame(_ address: UInt64) -> SymbolizedFrame {
        SymbolizedFrame(function: hex(address), image: "?")
    }

    public static func hex(_ address: UInt64) -> String { "0x" + String(address, radix: 16) }
}

extension SymbolicatedBacktrace.Frame {
    /// Real code addresses, as opposed to the markers a backtrace adds for omitted frames.
    fileprivate var isCode: Bool {
        switch captured {
        case .programCounter, .returnAddress, .asyncResumePoint: true
        default: false
        }
    }
}
