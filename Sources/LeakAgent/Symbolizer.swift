import LeakWire
@_spi(Internal) import Runtime
import Synchronization

/// Turns return addresses into demangled, file:line-annotated frames with inlined frames expanded.
///
/// Symbolication allocates and reads debug information: it runs on the agent's own thread or at
/// exit, never inside an allocation hook. The image map and each address's frames are cached.
public final class Symbolizer: Sendable {
    private struct State {
        var images: ImageMap?
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
            var images = state.images ?? ImageMap.capture()
            let target = Backtrace.Address(address)
            if !images.contains(where: { $0.baseAddress <= target && target < $0.endOfText }) {
                images = ImageMap.capture() // a library loaded since the last capture
            }
            state.images = images
            let frames = Self.symbolicate(address, images: images)
            state.framesByAddress[address] = frames
            return frames
        }
    }

    /// Each address minus the load address of the image holding it (nil when no loaded image
    /// holds it): unlike the address, the same in every start of the same binary, so the
    /// collector can follow a frame without a symbol across restarts despite ASLR.
    public func imageOffsets(forAddresses addresses: [UInt64]) -> [UInt64?] {
        state.withLock { state in
            addresses.map { address in
                guard address != 0 else { return nil }
                if let cached = state.imageOffsetByAddress[address] { return cached }
                var images = state.images ?? ImageMap.capture()
                let target = Backtrace.Address(address)
                var index = images.indexOfImage(at: target)
                if index == nil {
                    images = ImageMap.capture() // a library loaded since the last capture
                    index = images.indexOfImage(at: target)
                }
                state.images = images
                var offset: UInt64?
                if let index, let base = UInt64(images[index].baseAddress), base <= address { offset = address - base }
                state.imageOffsetByAddress[address] = offset
                return offset
            }
        }
    }

    /// The whole stack, with the allocator's own frames at the top removed.
    public func symbolicate(returnAddresses: [UInt64]) -> [StackFrame] {
        let stack = returnAddresses.flatMap { frames(forReturnAddress: $0) }
        return Array(stack.drop(while: Self.isAllocatorFrame))
    }

    private static func symbolicate(_ address: UInt64, images: ImageMap) -> [StackFrame] {
        let backtrace = Backtrace(architecture: architecture, frames: [RichFrame<UInt64>.returnAddress(address)],
                                  images: images)
        let options: Backtrace.SymbolicationOptions = [.showInlineFrames, .showSourceLocations, .useSymbolCache]
        guard let symbolicated = backtrace.symbolicated(with: images, options: options),
              !symbolicated.frames.isEmpty else {
            return [StackFrame(function: hex(address), image: "?", address: address)]
        }
        return symbolicated.frames.filter(\.isCode).map { frame in
            guard let symbol = frame.symbol, symbol.name != "<unknown>" else {
                let image = frame.symbol?.imageName ?? "?"
                return StackFrame(function: hex(address), image: image, address: address, isInlined: frame.inlined)
            }
            let location = symbol.sourceLocation
            return StackFrame(
                function: symbol.name,
                file: location.map(\.path).flatMap { $0.isEmpty || $0 == "<unknown>" ? nil : $0 },
                line: location.map(\.line).flatMap { $0 > 0 ? $0 : nil },
                image: symbol.imageName,
                address: address,
                isInlined: frame.inlined
            )
        }
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

    static func hex(_ address: UInt64) -> String { "0x" + String(address, radix: 16) }

    static func isAllocatorFrame(_ frame: StackFrame) -> Bool {
        FrameKind.isAllocator(function: frame.function)
    }

    static func isRuntimeFrame(_ frame: StackFrame) -> Bool {
        FrameKind.isRuntime(function: frame.function, file: frame.file ?? "")
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
