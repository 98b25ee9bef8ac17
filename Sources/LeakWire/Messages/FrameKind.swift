/// Which frames of an allocation stack are the allocator's or the language runtime's own: real
/// frames, but never the answer to "who allocated this". The agent, the collector and the cli
/// share this one rule, so the frame a report names is the same everywhere.
public enum FrameKind {
    static let allocatorFunctions: Set<String> = [
        "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
        "valloc", "pvalloc", "lt_tagged_malloc", "lt_tagged_calloc",
        "operator new(unsigned long)", "operator new[](unsigned long)",
    ]

    /// The malloc family and the tracker's own entry points.
    public static func isAllocator(function: String) -> Bool {
        allocatorFunctions.contains(function) || function.hasPrefix("lt_")
    }

    /// The allocator, the Swift runtime and standard library, the C and C++ runtimes.
    public static func isRuntime(function: String, image: String) -> Bool {
        let imageName = image.split(separator: "/").last.map(String.init) ?? image
        return isAllocator(function: function) || function.hasPrefix("swift_") || function.hasPrefix("_swift")
            || imageName.hasPrefix("libswiftCore") || imageName.hasPrefix("libswiftSwiftOnoneSupport")
            || imageName.hasPrefix("libc.so") || imageName.hasPrefix("libstdc++")
    }
}

extension Leakwatch_V1_Frame {
    public var isRuntime: Bool { FrameKind.isRuntime(function: function, image: image) }
}
