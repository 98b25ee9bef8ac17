/// Which frames of an allocation stack belong to the allocator or to code the reader did not
/// write: real frames, but never the answer to "who allocated this". The agent, the collector and
/// the cli share this one rule, so the frame a report names is the same everywhere.
///
/// A frame counts as such when it is the malloc family (or the tracker's entry points), or when it
/// has no source location: the Swift runtime and standard library, libc, libstdc++, Foundation as
/// shipped, any library built without debug information.
public enum FrameKind {
    static let allocatorFunctions: Set<String> = [
        "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
        "valloc", "pvalloc", "lt_tagged_malloc", "lt_tagged_calloc",
    ]

    /// The malloc family and the tracker's own entry points.
    public static func isAllocator(function: String) -> Bool {
        allocatorFunctions.contains(function) || function.hasPrefix("lt_")
    }

    public static func isRuntime(function: String, file: String) -> Bool {
        isAllocator(function: function) || file.isEmpty
    }

    /// How many frames at the top of a stack are runtime frames; 0 when all are (then there is
    /// nothing better to start at).
    public static func leadingRuntimeCount<Frames: Collection>(_ frames: Frames, isRuntime: (Frames.Element) -> Bool) -> Int {
        let count = frames.prefix(while: isRuntime).count
        return count == frames.count ? 0 : count
    }
}

extension Leakwatch_V1_Frame {
    public var isRuntime: Bool { FrameKind.isRuntime(function: function, file: file) }
}
