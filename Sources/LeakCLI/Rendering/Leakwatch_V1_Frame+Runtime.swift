import LeakStacks
import LeakWire

extension Leakwatch_V1_Frame {
    /// The allocator's, a standard library's or code without a source location (`StackFrameKind`).
    var isRuntime: Bool { StackFrameKind.isRuntime(function: function, file: file) }
}
