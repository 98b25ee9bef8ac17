/// One frame an address resolves to: the function itself, or one inlined into it.
public struct SymbolizedFrame: Equatable, Sendable {
    /// Demangled; `module+0xoffset` when no symbol covers the address, the address in hex when no
    /// loaded image holds it.
    public var function: String
    public var file: String?
    public var line: Int?
    /// The image (executable or shared library) the code belongs to, "?" when none holds it.
    public var image: String
    /// Whether the compiler inlined this frame into the next one.
    public var isInlined: Bool
    /// The image's GNU build-id in hex, given with a frame no symbol covers so that the binary's
    /// debug file can be found to resolve it later.
    public var buildID: String?

    public init(function: String, file: String? = nil, line: Int? = nil, image: String, isInlined: Bool = false,
                buildID: String? = nil) {
        self.function = function
        self.file = file
        self.line = line
        self.image = image
        self.isInlined = isInlined
        self.buildID = buildID
    }
}
