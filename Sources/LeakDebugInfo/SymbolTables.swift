import CDemangle
import CInlineFrames
import LeakSymbolication
@_spi(Internal) import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Return addresses to demangled, file:line-annotated frames, inlined frames expanded, from the
/// images' symbol tables and DWARF, read by the Swift Runtime.
///
/// This reads and keeps the debug information of every image it is asked about, tens of megabytes
/// for a large Swift server: only `leakwatch-symbolizer` runs it, a process of its own that exits
/// when idle, so none of it stays in the watched process.
public struct SymbolTables {
    private let images: ProcessImages
    /// nil when the Runtime would not take the map (see `ImageMap.of`): no symbols, offsets still.
    private let map: ImageMap?

    public init(_ images: ProcessImages) {
        self.images = images
        map = ImageMap.of(images.images)
    }

    /// Frames for one return address, innermost (inlined) first; `module+0xoffset` with the
    /// build-id where no symbol covers it (a stripped binary).
    public func frames(forReturnAddress address: UInt64) -> [SymbolizedFrame] {
        let unsymbolized = images.unsymbolizedFrame(forReturnAddress: address)
        guard let map, images.index(holding: address) != nil else { return [unsymbolized] }
        let backtrace = Backtrace(architecture: Self.architecture, frames: [RichFrame<UInt64>.returnAddress(address)],
                                  images: map)
        let options: Backtrace.SymbolicationOptions = [.showInlineFrames, .showSourceLocations, .useSymbolCache]
        guard let symbolicated = backtrace.symbolicated(with: map, options: options),
              !symbolicated.frames.isEmpty else {
            return [unsymbolized]
        }
        let frames = symbolicated.frames.filter(\.isCode).map { frame in
            guard let symbol = frame.symbol, symbol.name != "<unknown>" else {
                var frameWithoutSymbol = unsymbolized
                frameWithoutSymbol.isInlined = frame.inlined
                return frameWithoutSymbol
            }
            let location = symbol.sourceLocation
            return SymbolizedFrame(
                function: Self.rustName(symbol.rawName) ?? symbol.name,
                file: location.map(\.path).flatMap { $0.isEmpty || $0 == "<unknown>" ? nil : $0 },
                line: location.map(\.line).flatMap { $0 > 0 ? $0 : nil },
                image: symbol.imageName,
                isInlined: frame.inlined
            )
        }
        return withInlinedCalls(frames, returnAddress: address)
    }

    /// `frames` with the inlined calls the Runtime did not see (see CInlineFrames.h) read by libdw:
    /// the Runtime's one frame then carries the innermost inlined function's line, which the
    /// function it names has not.
    private func withInlinedCalls(_ frames: [SymbolizedFrame], returnAddress address: UInt64) -> [SymbolizedFrame] {
        // Only where the Runtime found a line: an image without DWARF has no inlined calls to find.
        guard frames.count == 1, let outermost = frames.first, !outermost.isInlined, outermost.file != nil,
              let index = images.index(holding: address) else {
            return frames
        }
        let image = images.images[index]
        // The call instruction, which the return address follows.
        let callAddress = address - 1 - image.loadBias
        let capacity = 16
        let chain = [lw_inline_frame](unsafeUninitializedCapacity: capacity) { buffer, count in
            count = Int(lw_inline_frames(image.path, callAddress, buffer.baseAddress, Int32(capacity)))
        }
        guard chain.count > 1 else { return frames }
        var expanded = chain.dropLast().map { call in
            SymbolizedFrame(function: call.name.map { Self.readableName(String(cString: $0)) } ?? "?",
                            file: call.file.map { String(cString: $0) }, line: call.line > 0 ? Int(call.line) : nil,
                            image: outermost.image, isInlined: true)
        }
        var caller = outermost
        let site = chain[chain.count - 1]
        caller.file = site.file.map { String(cString: $0) } ?? caller.file
        caller.line = site.line > 0 ? Int(site.line) : caller.line
        expanded.append(caller)
        return expanded
    }

    /// A DWARF linkage name demangled (C++, Rust, Swift), or the name as it is.
    private static func readableName(_ name: String) -> String {
        if let rust = rustName(name) { return rust }
        if let demangled = lw_demangle_cxx(name) {
            defer { free(demangled) }
            return String(cString: demangled)
        }
        return name
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
