import LeakStacks
import LeakWire

/// How one allocation site looks in text and in JSON; shared by `report` and `sites`.
enum SiteRendering {
    /// `SessionCache.insert(_:) (SessionCache.swift:42)`, then ` [inlined]` when the compiler
    /// inlined it into the frame below; unknown parts left out.
    static func frameText(_ frame: Leakwatch_V1_Frame) -> String {
        let (function, location) = frameParts(frame)
        let text = location.isEmpty ? function : "\(function) (\(location))"
        return frame.inlined ? text + " [inlined]" : text
    }

    /// The frame's function (its address when unnamed, `???` without one) and where it is: the
    /// file's last component and line, else the image's; empty when neither is known.
    static func frameParts(_ frame: Leakwatch_V1_Frame) -> (function: String, location: String) {
        let function = frame.function.isEmpty
            ? (frame.address == 0 ? "???" : "0x" + String(frame.address, radix: 16)) : frame.function
        if !frame.file.isEmpty {
            let base = frame.file.split(separator: "/").last.map(String.init) ?? frame.file
            return (function, frame.line > 0 ? "\(base):\(frame.line)" : base)
        }
        return (function, frame.image.split(separator: "/").last.map(String.init) ?? frame.image)
    }

    /// The Swift type when the agent knew it, else nil.
    static func typeName(_ site: Leakwatch_V1_SiteReport) -> String? {
        site.hasTypeName && !site.typeName.isEmpty ? site.typeName : nil
    }

    /// The most specific frame worth naming in a one-line summary: the innermost frame outside
    /// the allocator and the runtimes.
    static func topFrame(_ site: Leakwatch_V1_SiteReport) -> String {
        let hidden = leadingRuntimeFrameCount(site.frames)
        return site.frames.dropFirst(hidden).first.map(frameText) ?? "(stack \(site.stackID) not symbolized)"
    }

    /// Frames at the top of a stack that belong to the allocator and the runtimes
    /// (`swift_slowAlloc`, `swift_allocObject`, `Array.init(repeating:count:)`, ...; the rule is
    /// LeakStacks' `StackFrameKind`, the one the agent uses). Text output starts after them unless asked
    /// otherwise; JSON and pprof keep every frame.
    static func leadingRuntimeFrameCount(_ frames: [Leakwatch_V1_Frame]) -> Int {
        StackFrameKind.leadingRuntimeCount(frames, isRuntime: \.isRuntime)
    }

    /// A site in text: a summary line then up to `frameLimit` frames, each within `width`.
    static func block(_ site: Leakwatch_V1_SiteReport, rank: Int, frameLimit: Int, width: Int, style: TextStyle,
                      showRuntimeFrames: Bool = false) -> [String] {
        let status = HostStatus(site.status)
        var summary = Units.padLeft("\(rank).", 4) + " " + Units.padLeft(Units.rate(bytesPerHour: site.rateBytesPerHour), 12)
        summary += "  " + style.status(status, Units.pad(status.headline, 14))
        summary += "  live " + Units.bytes(site.liveBytes)
        if site.liveObjects > 0 { summary += " in " + Units.count(site.liveObjects) + " objects" }
        if let type = typeName(site) {
            let room = width - visibleWidth(summary) - 8
            if room >= 8 { summary += "  type " + style.bold(Units.fit(type, width: room)) }
        }
        return [summary] + frameLines(site.frames, stackID: site.stackID, frameLimit: frameLimit, width: width, style: style,
                                      showRuntimeFrames: showRuntimeFrames)
    }

    /// A stack's frames under a site's summary line, the allocator's and runtimes' folded away
    /// unless `showRuntimeFrames`.
    static func frameLines(_ frames: [Leakwatch_V1_Frame], stackID: UInt64, frameLimit: Int, width: Int, style: TextStyle,
                           showRuntimeFrames: Bool) -> [String] {
        var lines: [String] = []
        let hidden = showRuntimeFrames ? 0 : leadingRuntimeFrameCount(frames)
        if hidden > 0 && frameLimit > 0 {
            lines.append(style.dim("        … \(hidden) allocator and runtime frame" + (hidden == 1 ? "" : "s")))
        }
        let shown = frames.dropFirst(hidden)
        for frame in shown.prefix(frameLimit) {
            lines.append("        at " + Units.fit(frameText(frame), width: width - 11))
        }
        if shown.count > frameLimit {
            lines.append("        … \(shown.count - frameLimit) more frame" + (shown.count - frameLimit == 1 ? "" : "s"))
        } else if frames.isEmpty {
            lines.append("        (stack \(stackID) not symbolized)")
        }
        return lines
    }

    static func json(_ site: Leakwatch_V1_SiteReport) -> JSONValue {
        .object([
            ("stackId", .unsigned(site.stackID)),
            ("status", .string(HostStatus(site.status).rawValue)),
            ("rateBytesPerHour", .integer(Saturating.int64(site.rateBytesPerHour))),
            ("liveBytes", .unsigned(site.liveBytes)),
            ("liveObjects", .unsigned(site.liveObjects)),
            ("allocatedBytes", .unsigned(site.allocatedBytes)),
            ("typeName", typeName(site).map(JSONValue.string) ?? .null),
            ("frames", .array(site.frames.map(frameJSON))),
        ])
    }

    static func frameJSON(_ frame: Leakwatch_V1_Frame) -> JSONValue {
        .object([
            ("function", .string(frame.function)),
            ("file", .string(frame.file)),
            ("line", .unsigned(UInt64(frame.line))),
            ("image", .string(frame.image)),
            ("address", .string("0x" + String(frame.address, radix: 16))),
            ("inlined", .bool(frame.inlined)),
        ])
    }

    /// Width on screen of text that may hold ANSI escapes.
    static func visibleWidth(_ text: String) -> Int {
        var width = 0, inEscape = false
        for character in text {
            if inEscape {
                if character == "m" { inEscape = false }
            } else if character == "\u{1B}" {
                inEscape = true
            } else {
                width += 1
            }
        }
        return width
    }
}

extension SiteRendering {
    /// Frames a site's text shows unless `--frames` says otherwise: at least three, and always
    /// down to the first frame of the application (an inlined one included), however many
    /// library frames lie above it.
    static func framesToFirstApplicationFrame(_ frames: [Leakwatch_V1_Frame], showRuntimeFrames: Bool) -> Int {
        let minimum = 3
        let shown = Array(frames.dropFirst(showRuntimeFrames ? 0 : leadingRuntimeFrameCount(frames)))
        guard let image = applicationImage(frames),
              let first = shown.firstIndex(where: { $0.image == image && !$0.isRuntime })
        else { return minimum }
        return max(minimum, first + 1)
    }

    /// The application's image: the one of the outermost frame with source (its `main` or a
    /// thread's body); the frames below it are libc's thread and process start.
    static func applicationImage(_ frames: [Leakwatch_V1_Frame]) -> String? {
        frames.last { !$0.file.isEmpty && !$0.image.isEmpty && !$0.isRuntime }?.image
    }
}
