import LeakWireCore

/// A caught memory error with its stacks named: the report on stderr, in the shape a user of
/// AddressSanitizer reads at a glance, and what the snapshot's MEMORY_ERROR event carries.
///
///     leakwatch: heap-buffer-overflow on address 0x7f5c1a3fe000 0 bytes after a 32-byte block (write, thread 4242)
///         #0 write_past_end at /src/guard_errors.c:35 (guard_errors)
///         #1 main at /src/guard_errors.c:172 (guard_errors)
///       allocated by thread 4242:
///         #0 allocate_block at /src/guard_errors.c:28 (guard_errors)
///     leakwatch: the program runs on (LEAKWATCH_GUARD_MODE=recover)
struct MemoryErrorReport: Sendable {
    var error: MemoryError
    /// Where it faulted, or the bad free; innermost first.
    var accessStack: [StackFrame]
    var allocationStack: [StackFrame]
    var freeStack: [StackFrame]
    var caughtAtUnixNanos: Int64

    /// Names the error's stacks. A fault's frame 0 is the faulting instruction, not a return
    /// address, so it is named one byte on: the symbolizer looks up the byte before a return address.
    static func naming(_ error: MemoryError, with symbolizer: Symbolizer, caughtAtUnixNanos: Int64) -> MemoryErrorReport {
        var access = error.accessFrames
        let faulted = error.access != .free && !access.isEmpty
        if faulted { access[0] += 1 }
        let named = symbolizer.symbolicate(stacks: [access, error.allocationFrames, error.freeFrames])
        var accessStack = named[0]
        if faulted {
            for index in accessStack.indices where accessStack[index].address == access[0] {
                accessStack[index].address = error.accessFrames[0]
            }
        }
        return MemoryErrorReport(error: error, accessStack: accessStack, allocationStack: named[1], freeStack: named[2],
                                 caughtAtUnixNanos: caughtAtUnixNanos)
    }

    /// `heap-buffer-overflow on address 0x… 4 bytes after a 24-byte block (write, thread 42)`.
    var headline: String {
        var text = "\(error.kindName) on address 0x\(String(error.address, radix: 16))"
        if error.hasBlock {
            let size = error.blockSizeBytes
            if error.offset < 0 {
                text += " \(error.offset.magnitude) bytes before a \(size)-byte block"
            } else if error.offset.magnitude >= size {
                text += " \(error.offset.magnitude - size) bytes after a \(size)-byte block"
            } else {
                text += " \(error.offset) bytes inside a \(size)-byte block"
            }
        } else {
            text += " in the guarded pool, near no block"
        }
        return text + " (\(Self.accessName(error.access)), thread \(error.thread))"
    }

    static func accessName(_ access: Wire.MemoryAccess) -> String {
        switch access {
        case .read: "read"
        case .write: "write"
        case .free: "free"
        case .unknown, .unrecognized: "access"
        }
    }

    func text(framesPerStack: Int = 16) -> String {
        var out = "leakwatch: \(headline)\n"
        out += Self.lines(accessStack, limit: framesPerStack)
        if error.hasBlock && !error.freeFrames.isEmpty {
            out += "  freed by thread \(error.freeThread):\n" + Self.lines(freeStack, limit: framesPerStack)
        }
        if error.hasBlock {
            out += "  allocated by thread \(error.allocationThread):\n" + Self.lines(allocationStack, limit: framesPerStack)
        }
        out += error.crash
            ? "leakwatch: the program dies of it (LEAKWATCH_GUARD_MODE=crash)\n"
            : "leakwatch: the program runs on (LEAKWATCH_GUARD_MODE=recover)\n"
        return out
    }

    private static func lines(_ stack: [StackFrame], limit: Int) -> String {
        guard !stack.isEmpty else { return "    (no frames: the thread's stack bounds are unknown)\n" }
        var out = ""
        for (number, frame) in stack.prefix(limit).enumerated() {
            out += "    #\(number) \(frame.function)"
            if let file = frame.file { out += " at \(file)" + (frame.line.map { ":\($0)" } ?? "") }
            out += " (\(frame.image))\n"
        }
        if stack.count > limit { out += "    ... \(stack.count - limit) more\n" }
        return out
    }
}
