import LeakStacks
import LeakSymbolication
import Synchronization

/// Turns return addresses into demangled, file:line-annotated frames with inlined frames expanded.
///
/// Runs on the agent's own thread or at exit, never inside an allocation hook. New addresses are
/// named in batches by `leakwatch-symbolizer` (see `SymbolizerProcess`); each address's frames are
/// cached. The agent never reads debug information itself: when that program is not installed or
/// has failed, a frame is `module+0xoffset` with the module's build-id, for addr2line to name later.
public final class Symbolizer: Sendable {
    private struct State {
        var images: ProcessImages?
        var framesByAddress: [UInt64: [StackFrame]] = [:]
        /// nil values too: an address outside every image must not re-read the image map each time.
        var imageOffsetByAddress: [UInt64: UInt64?] = [:]
        /// nil once it has failed, or when it is not installed (`processFailure` says which): then
        /// frames stay unsymbolized.
        var process: SymbolizerProcess?
        var processFailure: String?
    }

    private let state: Mutex<State>

    public static let shared = Symbolizer()

    public convenience init() {
        self.init(process: SymbolizerProcess.locate())
    }

    init(process: Result<SymbolizerProcess, SymbolizerProcess.Failure>) {
        switch process {
        case .success(let process): state = Mutex(State(process: process))
        case .failure(let failure): state = Mutex(State(processFailure: failure.description))
        }
    }

    /// Where frames are named: the symbolizer program's path, or "unsymbolized: " and the reason.
    public var whereNamed: String {
        state.withLock { state in
            if let process = state.process { return process.path }
            return "unsymbolized: " + (state.processFailure ?? "")
        }
    }

    /// Each stack's frames, innermost first, without the frames at the top on the way to the
    /// allocator (the allocator's own, `operator new`, `__rust_alloc`, and the standard library's,
    /// `std::make_unique`, `Vec::push`), unless nothing else is left.
    public func symbolicate(stacks: [[UInt64]]) -> [[StackFrame]] {
        state.withLock { state in
            Self.resolve(Array(Set(stacks.joined())), in: &state)
            return stacks.map { addresses in
                let stack = addresses.flatMap { state.framesByAddress[$0] ?? [] }
                let application = stack.drop(while: Self.isAllocationPathFrame)
                return Array(application.isEmpty ? stack[...] : application)
            }
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
                let images = Self.images(holding: [address], cached: &state.images)
                let offset = images.index(holding: address).map { address - images.images[$0].loadBias }
                state.imageOffsetByAddress[address] = offset
                return offset
            }
        }
    }

    /// Names every address not named yet, all in one run of the symbolizer process.
    private static func resolve(_ addresses: [UInt64], in state: inout State) {
        let unnamed = addresses.filter { state.framesByAddress[$0] == nil }
        guard !unnamed.isEmpty else { return }
        let images = Self.images(holding: unnamed, cached: &state.images)
        var named: [[SymbolizedFrame]]?
        do {
            named = try state.process?.symbolize(SymbolizationRequest(images: images.images, addresses: unnamed))
        } catch {
            state.process = nil
            state.processFailure = error.description
        }
        let frames = named ?? unnamed.map { [images.unsymbolizedFrame(forReturnAddress: $0)] }
        for (address, addressFrames) in zip(unnamed, frames) {
            state.framesByAddress[address] = addressFrames.map { frame in
                StackFrame(function: frame.function, file: frame.file, line: frame.line, image: frame.image,
                           address: address, isInlined: frame.isInlined, buildID: frame.buildID)
            }
        }
    }

    /// The process's images, read again when the cached list holds not every one of `addresses`
    /// (a library loaded, or unloaded, since the last read); the cache keeps the new list.
    private static func images(holding addresses: [UInt64], cached: inout ProcessImages?) -> ProcessImages {
        if let images = cached, addresses.allSatisfy({ images.index(holding: $0) != nil }) { return images }
        let images = ProcessImages.read()
        cached = images
        return images
    }

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
            guard let range = frame.function.firstRange(ofText: ".__allocating_init") else { continue }
            var name = frame.function[..<range.lowerBound]
            if name.hasPrefix("static ") { name = name.dropFirst("static ".count) }
            return String(name)
        }
        return nil
    }
}
