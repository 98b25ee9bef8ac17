import LeakStacks

/// One frame of a symbolized allocation stack.
public struct StackFrame: Sendable, Hashable {
    /// Demangled function name; `module+0xoffset` when no symbol covers it, the address in hex
    /// when no loaded image holds it.
    public var function: String
    public var file: String?
    public var line: Int?
    /// The image (executable or shared library) the frame's code belongs to.
    public var image: String
    public var address: UInt64
    /// Whether the compiler inlined this frame into the next one.
    public var isInlined: Bool
    /// The image's GNU build-id in hex, given with a frame no symbol covers so that the binary's
    /// debug file can be found to resolve it later.
    public var buildID: String?

    public init(function: String, file: String? = nil, line: Int? = nil, image: String, address: UInt64,
                isInlined: Bool = false, buildID: String? = nil) {
        self.function = function
        self.file = file
        self.line = line
        self.image = image
        self.address = address
        self.isInlined = isInlined
        self.buildID = buildID
    }
}

/// A place in the program that allocates, identified by its call stack, with the sampler's
/// estimates (exact when the sample mean is 1 byte).
public struct AllocationSite: Sendable, Equatable {
    /// Stable across processes and hosts: derived from the symbolized frames, not addresses.
    public var stackID: UInt64
    public var liveBytes: UInt64
    public var liveObjects: UInt64
    /// Bytes allocated at this site since the process started (estimate).
    public var allocatedBytes: UInt64
    public var allocatedObjects: UInt64
    /// For Swift class instances: the allocated type, taken from the `__allocating_init` frame.
    public var typeName: String?
    /// Innermost first; the first frame is the application code that called the allocator.
    public var frames: [StackFrame]

    /// The frame a person means by "where it was allocated": the caller of a class's
    /// `__allocating_init`, else the first frame outside the Swift runtime and the allocator,
    /// else the first frame.
    public var primaryFrame: StackFrame? {
        if let initializer = frames.prefix(12).lastIndex(where: { $0.function.containsText("__allocating_init") }),
           initializer + 1 < frames.count {
            return frames[initializer + 1]
        }
        return frames.dropFirst(StackFrameKind.leadingRuntimeCount(frames, isRuntime: Symbolizer.isRuntimeFrame)).first
    }
}
