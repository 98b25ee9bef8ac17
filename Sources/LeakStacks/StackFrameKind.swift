/// Which stack frames of an allocation stack belong to the allocator or to code the reader did not
/// write: real frames, but never the answer to "who allocated this". The agent (which names a
/// site by the first frame past them) and the cli (which starts a site's text there) share this one
/// rule, so the frame a report names is the same in both.
///
/// A frame counts as such when it is the malloc family (or the tracker's entry points), or when it
/// has no source location: the Swift runtime and standard library, libc, libstdc++, Foundation as
/// shipped, any library built without debug information.
public enum StackFrameKind {
    static let allocatorFunctions: Set<String> = [
        "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
        "valloc", "pvalloc", "lt_tagged_malloc", "lt_tagged_calloc",
    ]

    /// The allocators' entry points under other names: C++'s operator new and new[] in every
    /// form, Rust's allocator shims (`__rust_alloc` calls `__rdl_alloc` or `__rg_alloc`) and its
    /// `alloc::alloc` functions.
    static let allocatorPrefixes = ["operator new", "__rust_", "__rdl_", "__rg_", "alloc::alloc::"]

    /// The malloc family, the languages' allocators above it and the tracker's own entry points.
    public static func isAllocator(function: String) -> Bool {
        allocatorFunctions.contains(function) || function.hasPrefix("lt_")
            || allocatorPrefixes.contains { function.hasPrefix($0) }
    }

    /// Code of a language's standard library, inlined or instantiated into the program: C++'s
    /// headers (`std::make_unique`, `std::vector::_M_realloc_insert`) and Rust's library crates
    /// (`Box::new`, `RawVec::finish_grow`, from /rustc/HASH/library/ or Debian's
    /// /usr/src/rustc-VERSION/library/). Real frames, but not the program's. Both the file and the
    /// namespace must say so: a symbolizer that folds an inlined frame into its caller gives the
    /// caller's name the callee's line.
    public static func isStandardLibrary(function: String, file: String) -> Bool {
        guard file.containsText("/include/c++/") || (file.containsText("/rustc") && file.containsText("/library/")) else { return false }
        return standardLibraryNamespaces.contains { function.hasPrefix($0) || function.containsText(" " + $0) }
    }

    // " std::" too: a demangled template function's name starts with its return type.
    static let standardLibraryNamespaces = [
        "std::", "__gnu_cxx::", "alloc::", "core::", "<std::", "<alloc::", "<core::",
        "_$LT$std..", "_$LT$alloc..", "_$LT$core..",
    ]

    /// The frames a stack starts with on its way to the allocator: the allocator's and the standard
    /// library's. The agent drops them, so that a site's first frame is the application's.
    public static func isAllocationPath(function: String, file: String) -> Bool {
        isAllocator(function: function) || isStandardLibrary(function: function, file: file)
    }

    public static func isRuntime(function: String, file: String) -> Bool {
        isAllocationPath(function: function, file: file) || file.isEmpty
    }

    /// How many frames at the top of a stack are runtime frames; 0 when all are (then there is
    /// nothing better to start at).
    public static func leadingRuntimeCount<Frames: Collection>(_ frames: Frames, isRuntime: (Frames.Element) -> Bool) -> Int {
        let count = frames.prefix(while: isRuntime).count
        return count == frames.count ? 0 : count
    }
}
