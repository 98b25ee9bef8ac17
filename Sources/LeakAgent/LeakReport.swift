/// The seed's `print_leaks`: heap counters and the live allocation sites, largest first, with
/// their stacks. Rendered as text for people and as JSON (docs/AGENT.md) for tools.
public struct LeakReport: Sendable, Equatable {
    public var stats: HeapStats
    public var sites: [AllocationSite]
    /// How shipping went, when a collector is configured: a wrong token or an unreachable
    /// collector shows here, not only on stderr.
    public var shipping: Shipping?
    /// Where the frames were named (`Symbolizer.whereNamed`).
    public var symbolizer: String?

    public struct Shipping: Sendable, Equatable {
        public var collector: String
        public var statistics: ShipperStatistics
    }

    public init(stats: HeapStats, sites: [AllocationSite], shipping: Shipping? = nil, symbolizer: String? = nil) {
        self.stats = stats
        self.sites = sites
        self.shipping = shipping
        self.symbolizer = symbolizer
    }

    /// Reads the counters, then the sites with live bytes (at most `siteLimit`).
    public static func capture(siteLimit: Int = 50, symbolizer: Symbolizer = .shared) -> LeakReport {
        let stats = HeapStats.read()
        let sites = AllocationSite.read(symbolizer: symbolizer).filter { $0.liveBytes > 0 }
        return LeakReport(stats: stats, sites: Array(sites.prefix(siteLimit)), shipping: LeakAgent.shipping,
                          symbolizer: symbolizer.whereNamed)
    }

    public func json() -> String {
        let statsObject = JSONText.object([
            ("totalAllocatedBytes", String(stats.totalAllocatedBytes)),
            ("currentBytes", String(stats.currentBytes)),
            ("peakBytes", String(stats.peakBytes)),
            ("allocationCount", String(stats.allocationCount)),
            ("freeCount", String(stats.freeCount)),
            ("blocksOutstanding", String(stats.blocksOutstanding)),
            ("sampleMeanBytes", String(stats.sampleMeanBytes)),
            ("agentHeapBytes", String(stats.agentHeapBytes)),
            ("trackerMappedBytes", String(stats.trackerMappedBytes)),
        ])
        let siteObjects = sites.map { site in
            JSONText.object([
                ("liveBytes", String(site.liveBytes)),
                ("liveObjects", String(site.liveObjects)),
                ("allocatedBytes", String(site.allocatedBytes)),
                ("typeName", site.typeName.map(JSONText.quoted)),
                ("frames", JSONText.array(site.frames.map { frame in
                    JSONText.object([
                        ("function", JSONText.quoted(frame.function)),
                        ("file", frame.file.map(JSONText.quoted)),
                        ("line", frame.line.map { String($0) }),
                        ("image", JSONText.quoted(frame.image)),
                        ("inlined", frame.isInlined ? "true" : nil),
                        ("buildId", frame.buildID.map(JSONText.quoted)),
                    ])
                })),
            ])
        }
        let shippingObject = shipping.map { shipping in
            JSONText.object([
                ("collector", JSONText.quoted(shipping.collector)),
                ("snapshotsTaken", String(shipping.statistics.snapshotsTaken)),
                ("snapshotsAcknowledged", String(shipping.statistics.snapshotsAcknowledged)),
                ("snapshotsRejected", String(shipping.statistics.snapshotsRejected)),
                ("connectionsEstablished", String(shipping.statistics.connectionsEstablished)),
                ("connectionFailures", String(shipping.statistics.connectionFailures)),
                ("lastError", shipping.statistics.lastError.map(JSONText.quoted)),
            ])
        }
        return JSONText.object([("stats", statsObject), ("sites", JSONText.array(siteObjects)), ("shipping", shippingObject),
                                ("symbolizer", symbolizer.map(JSONText.quoted))]) + "\n"
    }

    public func text(framesPerSite: Int = 12) -> String {
        var out = "== Leakwatch heap report ==\n"
        out += "in use \(ByteCount.text(stats.currentBytes)) in \(stats.blocksOutstanding) blocks, "
        out += "peak \(ByteCount.text(stats.peakBytes)), allocated \(ByteCount.text(stats.totalAllocatedBytes)) in total\n"
        out += "\(stats.allocationCount) allocations, \(stats.freeCount) frees; "
        out += "sample mean \(stats.sampleMeanBytes) bytes\n"
        if let shipping {
            let statistics = shipping.statistics
            out += "shipping to \(shipping.collector): \(statistics.snapshotsAcknowledged) of \(statistics.snapshotsTaken) snapshots acknowledged"
            if statistics.snapshotsRejected > 0 { out += ", \(statistics.snapshotsRejected) rejected by the collector" }
            out += statistics.lastError.map { "; last error: \($0)\n" } ?? "\n"
        }
        if sites.isEmpty { out += "no live sampled sites\n" }
        for (number, site) in sites.enumerated() {
            out += "\n#\(number + 1) \(ByteCount.text(site.liveBytes)) live in \(site.liveObjects) objects"
            if let typeName = site.typeName { out += " of \(typeName)" }
            out += " (\(ByteCount.text(site.allocatedBytes)) allocated)\n"
            for frame in site.frames.prefix(framesPerSite) {
                out += "    \(frame.function)"
                if let file = frame.file { out += " at \(file)" + (frame.line.map { ":\($0)" } ?? "") }
                out += "\n"
            }
            if site.frames.count > framesPerSite { out += "    ... \(site.frames.count - framesPerSite) more\n" }
        }
        return out
    }
}

enum ByteCount {
    static func text(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) \(units[unit])"
    }
}
