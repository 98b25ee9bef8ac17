import LeakWire

/// How memory-safety errors look in text and JSON; shared by `report` (one host's errors) and
/// `errors` (the fleet's, by allocation site).
enum MemoryErrorRendering {
    /// AddressSanitizer's names, as the agent's report on stderr uses them.
    static func kindName(_ kind: Leakwatch_V1_MemoryErrorKind) -> String {
        switch kind {
        case .heapBufferOverflow: "heap-buffer-overflow"
        case .heapBufferUnderflow: "heap-buffer-underflow"
        case .heapUseAfterFree: "heap-use-after-free"
        case .doubleFree: "double-free"
        case .invalidFree: "invalid-free"
        case .wildAccess: "wild-access"
        default: "memory-error"
        }
    }

    static func accessName(_ access: Leakwatch_V1_MemoryAccess) -> String {
        switch access {
        case .read: "read"
        case .write: "write"
        case .free: "free"
        default: "unknown"
        }
    }

    /// `write 4 bytes after a 24-byte block`, as the agent's report says where the address is.
    static func placement(_ error: Leakwatch_V1_MemoryErrorReport) -> String {
        let size = error.blockSizeBytes
        guard size > 0 else { return "\(accessName(error.access)) near no block" }
        let offset = error.blockOffset
        let place = offset < 0 ? "\(offset.magnitude) bytes before"
            : offset.magnitude >= size ? "\(offset.magnitude - size) bytes after" : "\(offset) bytes inside"
        return "\(accessName(error.access)) \(place) a \(size)-byte block"
    }

    /// The first frames of a stack after the allocator's and the runtimes' own.
    static func topFrames(_ frames: [Leakwatch_V1_Frame], limit: Int) -> [Leakwatch_V1_Frame] {
        Array(frames.dropFirst(SiteRendering.leadingRuntimeFrameCount(frames)).prefix(limit))
    }

    /// One host's error in a report: a summary line (did the process run on or die of it?), then
    /// the top frames of each stack.
    static func block(_ error: Leakwatch_V1_MemoryErrorReport, frameLimit: Int, width: Int) -> [String] {
        let summary = "  " + Units.shortTime(unixNanos: error.timestampUnixNanos) + "  " + kindName(error.kind) + "  "
            + placement(error) + "  thread \(error.threadID), " + (error.recovered ? "ran on" : "died")
        var lines = [Units.fit(summary, width: width)]
        for (label, frames) in [("at", error.accessFrames), ("freed at", error.freeFrames), ("allocated at", error.allocationFrames)] {
            for (index, frame) in topFrames(frames, limit: frameLimit).enumerated() {
                let lead = index == 0 ? label : String(repeating: " ", count: label.count)
                lines.append(Units.fit("      \(lead) " + SiteRendering.frameText(frame), width: width))
            }
        }
        return lines
    }

    static func json(_ error: Leakwatch_V1_MemoryErrorReport) -> JSONValue {
        .object([
            ("time", .time(unixNanos: error.timestampUnixNanos)),
            ("kind", .string(kindName(error.kind))),
            ("access", .string(accessName(error.access))),
            ("address", .string("0x" + String(error.faultAddress, radix: 16))),
            ("blockOffset", .integer(error.blockOffset)),
            ("blockSizeBytes", .unsigned(error.blockSizeBytes)),
            ("thread", .unsigned(UInt64(error.threadID))),
            ("recovered", .bool(error.recovered)),
            ("accessFrames", .array(error.accessFrames.map(SiteRendering.frameJSON))),
            ("allocationFrames", .array(error.allocationFrames.map(SiteRendering.frameJSON))),
            ("freeFrames", .array(error.freeFrames.map(SiteRendering.frameJSON))),
        ])
    }
}
