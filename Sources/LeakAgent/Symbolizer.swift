import CRustDemangle
import LeakStacks
import LeakWire
@_spi(Internal) import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Turns return addresses into demangled, file:line-annotated frames with inlined frames expanded.
///
/// Symbolication allocates and reads debug information: it runs on the agent's own thread or at
/// exit, never inside an allocation hook. The image map and each address's frames are cached.
public final class Symbolizer: Sendable {
    private struct State {
        var images: ProcessImages?
        var framesByAddress: [UInt64: [StackFrame]] = [:]
        /// nil values too: an address outside every image must not re-read the image map each time.
        var imageOffsetByAddress: [UInt64: UInt64?] = [:]
    }

    private let state = Mutex(State())

    public static let shared = Symbolizer()

    public init() {}

    /// Frames for one return address, innermost (inlined) first.
    public func frames(forReturnAddress address: UInt64) -> [StackFrame] {
        state.withLock { state in
            if let cached = state.framesByAddress[address] { return cached }
            let frames = Self.images(holding: address, cached: &state.images).map { images, index in
                Self.symbolicate(address, in: images.images[index], map: images.map)
            } ?? [Self.unknownFrame(address)]
            state.framesByAddress[address] = frames
            return frames
        }
    }

    /// Each address minus the load bias of the image holding it (nil when no loaded image holds
    /// it): the object's own virtual address, the same in every start of the same binary, so the
    /// collector can follow a frame without a symbol across restarts despite ASLR, and what
    /// addr2line takes.
    public func imageOffsets(forAddresses addresses: [UInt64]) -> [UInt64?] {
        state.withLock { state in
            addresses.map { address in
                guard address != 0 else { return nil }
                if let cached = state.imageOffsetByAddress[address] { return cached }
                let offset = Self.images(holding: address, cached: &state.images).map { images, index in
                    address - images.images[index].loadBias
                }
                state.imageOffsetByAddress[address] = offset
                return offset
            }
        }
    }

    /// The image map and the index of the image holding `address`; the map is read again once
    /// when no image holds it (a library loaded since the last read).
    private static func images(holding address: UInt64, cached: inout ProcessImages?) -> (ProcessImages, Int)? {
        if let images = cached, let index = images.index(holding: address) { return (images, index) }
        // The loader's view, not the Runtime's `ImageMap.capture()` (see LoadedImage).
        let images = ProcessImages.read()
        cached = images
        return images.index(holding: address).map { (images, $0) }
    }

    /// The whole stack, without the frames at the top on the way to the allocator (the allocator's
    /// own, `operator new`, `__rust_alloc`, and the standard library's, `std::make_unique`,
    /// `Vec::push`), unless nothing else is left.
    public func symbolicate(returnAddresses: [UInt64]) -> [StackFrame] {
        let stack = returnAddresses.flatMap { frames(forReturnAddress: $0) }
        let application = stack.drop(while: Self.isAllocationPathFrame)
        return Array(application.isEmpty ? stack[...] : application)
    }

    /// A frame no symbol covers (a stripped binary) is named `module+0xoffset`, the offset being
    /// the object's own virtual address, with its build-id: what addr2line or llvm-symbolizer
    /// resolve later against the binary's debug file, and the same in every process.
    private static func symbolicate(_ address: UInt64, in image: LoadedImage, map: ImageMap?) -> [StackFrame] {
        let unsymbolized = StackFrame(function: "\(image.name)+\(hex(address - image.loadBias))", image: String(image.name),
                                      address: address, buildID: image.buildIDText)
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
            return StackFrame(
                function: rustName(symbol.rawName) ?? symbol.name,
                file: location.map(\.path).flatMap { $0.isEmpty || $0 == "<unknown>" ? nil : $0 },
                line: location.map(\.line).flatMap { $0 > 0 ? $0 : nil },
                image: symbol.imageName,
                address: address,
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

    private static func unknownFrame(_ address: UInt64) -> StackFrame {
        StackFrame(function: hex(address), image: "?", address: address)
    }

    static func hex(_ address: UInt64) -> String { "0x" + String(address, radix: 16) }

    static func isAllocationPathFrame(_ frame: StackFrame) -> Bool {
        StackFrameKind.isAllocationPath(function: frame.function, file: frame.file ?? "")
    }

    /// A stack no application code is on: the preloaded agent, the Swift toolchain's libraries it
    /// brings into any program (runtime, Foundation, dispatch), the dynamic loader, with nothing
    /// below them but libc and libstdc++ (the runtime's own `operator new`). The runtime's metadata
    /// caches and Foundation's start-up are not the program's to fix.
    static func isAgentOrToolchainStack(_ frames: [StackFrame]) -> Bool {
        let images = Set(frames.map { $0.image.split(separator: ".").first.map(String.init) ?? $0.image })
        let glue: Set<String> = ["libc", "libstdc++", "libgcc_s", "libm"]
        let toolchain = images.subtracting(glue)
        return !toolchain.isEmpty && toolchain.allSatisfy { image in
            image == "libLeakAgentPreload" || image == "libLeakAgentRuntime" || image.hasPrefix("libswift") || image.hasPrefix("libFoundation")
                || image == "lib_FoundationICU" || image == "libdispatch" || image == "libBlocksRuntime"
                || image.hasPrefix("ld-linux")
        }
    }

    static func isRuntimeFrame(_ frame: StackFrame) -> Bool {
        StackFrameKind.isRuntime(function: frame.function, file: frame.file ?? "")
    }

    /// `Module.Type.__allocating_init(...)` names the class being instantiated.
    static func allocatedTypeName(in frames: [StackFrame]) -> String? {
        for frame in frames.prefix(8) {
            guard let range = frame.function.firstRange(of: ".__allocating_init") else { continue }
            var name = frame.function[..<range.lowerBound]
            if name.hasPrefix("static ") { name = name.dropFirst("static ".count) }
            return String(name)
        }
        return nil
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
