import LeakWire

/// How a site's change between two snapshots looks in `diff`'s text and JSON, and its signed
/// deltas for `export --base`.
enum SiteChangeRendering {
    static func deltaBytes(_ change: Leakwatch_V1_SiteChange) -> Int64 {
        Int64(clamping: change.toLiveBytes) &- Int64(clamping: change.fromLiveBytes)
    }

    static func deltaObjects(_ change: Leakwatch_V1_SiteChange) -> Int64 {
        Int64(clamping: change.toLiveObjects) &- Int64(clamping: change.fromLiveObjects)
    }

    /// `+1.5 MiB` or `-512 B`.
    static func signedBytes(_ value: Int64) -> String { (value > 0 ? "+" : "") + Units.bytes(value) }

    /// A change in text: a summary line, then its frames as `sites` shows them.
    static func block(_ change: Leakwatch_V1_SiteChange, rank: Int, frameLimit: Int, width: Int, style: TextStyle,
                      showRuntimeFrames: Bool) -> [String] {
        let delta = deltaBytes(change)
        let deltaText = Units.padLeft(signedBytes(delta), 12)
        var summary = Units.padLeft("\(rank).", 4) + " " + (delta > 0 ? style.red(deltaText) : style.green(deltaText))
        summary += "  live " + Units.bytes(change.fromLiveBytes) + " → " + Units.bytes(change.toLiveBytes)
        let objects = deltaObjects(change)
        if objects != 0 { summary += ", " + (objects > 0 ? "+" : "-") + Units.count(objects.magnitude) + " objects" }
        if change.hasTypeName && !change.typeName.isEmpty {
            let room = width - SiteRendering.visibleWidth(summary) - 8
            if room >= 8 { summary += "  type " + style.bold(Units.fit(change.typeName, width: room)) }
        }
        return [summary] + SiteRendering.frameLines(
            change.frames, stackID: change.stackID, frameLimit: frameLimit, width: width, style: style,
            showRuntimeFrames: showRuntimeFrames)
    }

    static func json(_ change: Leakwatch_V1_SiteChange) -> JSONValue {
        .object([
            ("stackId", .unsigned(change.stackID)),
            ("deltaBytes", .integer(deltaBytes(change))),
            ("deltaObjects", .integer(deltaObjects(change))),
            ("fromLiveBytes", .unsigned(change.fromLiveBytes)),
            ("toLiveBytes", .unsigned(change.toLiveBytes)),
            ("fromLiveObjects", .unsigned(change.fromLiveObjects)),
            ("toLiveObjects", .unsigned(change.toLiveObjects)),
            ("typeName", change.hasTypeName && !change.typeName.isEmpty ? .string(change.typeName) : .null),
            ("frames", .array(change.frames.map(SiteRendering.frameJSON))),
        ])
    }
}
