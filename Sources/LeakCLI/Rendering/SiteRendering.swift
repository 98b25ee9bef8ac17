import LeakWire

/// How one allocation site looks in text and in JSON; shared by `report` and `sites`.
enum SiteRendering {
    /// `SessionCache.insert(_:) (SessionCache.swift:42)`; unknown parts left out.
    static func frameText(_ frame: Leakwatch_V1_Frame) -> String {
        var function = frame.function
        if function.isEmpty {
            function = frame.address == 0 ? "???" : "0x" + String(frame.address, radix: 16)
        }
        var location = ""
        if !frame.file.isEmpty {
            let base = frame.file.split(separator: "/").last.map(String.init) ?? frame.file
            location = frame.line > 0 ? "\(base):\(frame.line)" : base
        } else if !frame.image.isEmpty {
            location = frame.image.split(separator: "/").last.map(String.init) ?? frame.image
        }
        return location.isEmpty ? function : "\(function) (\(location))"
    }

    /// The Swift type when the agent knew it, else nil.
    static func typeName(_ site: Leakwatch_V1_SiteReport) -> String? {
        site.hasTypeName && !site.typeName.isEmpty ? site.typeName : nil
    }

    /// The most specific frame worth naming in a one-line summary: the innermost frame.
    static func topFrame(_ site: Leakwatch_V1_SiteReport) -> String {
        site.frames.first.map(frameText) ?? "(stack \(site.stackID) not symbolized)"
    }

    /// A site in text: a summary line then up to `frameLimit` frames, each within `width`.
    static func block(_ site: Leakwatch_V1_SiteReport, rank: Int, frameLimit: Int, width: Int, style: TextStyle) -> [String] {
        let status = HostStatus(site.status)
        var summary = Units.padLeft("\(rank).", 4) + " " + Units.padLeft(Units.rate(bytesPerHour: site.rateBytesPerHour), 12)
        summary += "  " + style.status(status, Units.pad(status.headline, 14))
        summary += "  live " + Units.bytes(site.liveBytes) + " in " + Units.count(site.liveObjects) + " objects"
        if let type = typeName(site) {
            let room = width - visibleWidth(summary) - 8
            if room >= 8 { summary += "  type " + style.bold(Units.fit(type, width: room)) }
        }
        var lines = [summary]
        for frame in site.frames.prefix(frameLimit) {
            lines.append("        at " + Units.fit(frameText(frame), width: width - 11))
        }
        if site.frames.count > frameLimit {
            lines.append("        … \(site.frames.count - frameLimit) more frames")
        } else if site.frames.isEmpty {
            lines.append("        (stack \(site.stackID) not symbolized)")
        }
        return lines
    }

    static func json(_ site: Leakwatch_V1_SiteReport) -> JSONValue {
        .object([
            ("stackId", .unsigned(site.stackID)),
            ("status", .string(HostStatus(site.status).rawValue)),
            ("rateBytesPerHour", .integer(Int64(site.rateBytesPerHour.rounded()))),
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
