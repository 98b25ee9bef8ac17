import CLeakTrackAPI

extension AllocationSite {
    /// The raw sites as the C core holds them: unsymbolized, keyed by address-level stacks.
    struct Raw {
        var liveBytes: UInt64
        var liveObjects: UInt64
        var allocatedBytes: UInt64
        var allocatedObjects: UInt64
        var returnAddresses: [UInt64]
        var tag: StackFrame?
    }

    static func readRaw() -> [Raw] {
        var capacity = 256
        while true {
            var buffer = [lt_site](repeating: lt_site(), count: capacity)
            let existing = buffer.withUnsafeMutableBufferPointer { Int(lt_read_sites($0.baseAddress, Int32($0.count))) }
            if existing > capacity {
                capacity = existing + existing / 4
                continue
            }
            return buffer.prefix(existing).map { site in
                var site = site
                let addresses = withUnsafeBytes(of: &site.frames) { raw in
                    raw.bindMemory(to: UInt.self).prefix(Int(site.frame_count)).map { UInt64($0) }
                }
                var tag: StackFrame?
                if let function = site.tag_function {
                    tag = StackFrame(
                        function: String(cString: function),
                        file: site.tag_file.map { String(cString: $0) },
                        line: Int(site.tag_line),
                        image: "tagged",
                        address: 0
                    )
                }
                return Raw(liveBytes: site.live_bytes, liveObjects: site.live_objects,
                           allocatedBytes: site.allocated_bytes, allocatedObjects: site.allocated_objects,
                           returnAddresses: addresses, tag: tag)
            }
        }
    }

    /// Symbolized sites, merged where distinct address-level stacks name the same frames, largest
    /// live bytes first.
    public static func read(symbolizer: Symbolizer = .shared) -> [AllocationSite] {
        lt_thread_pause_sampling()
        defer { lt_thread_resume_sampling() }
        var merged: [UInt64: AllocationSite] = [:]
        let raws = readRaw()
        for (raw, symbolized) in zip(raws, symbolizer.symbolicate(stacks: raws.map(\.returnAddresses))) {
            var frames = symbolized
            if raw.tag == nil, Symbolizer.isAgentOrToolchainStack(frames) { continue }
            if let tag = raw.tag { frames.insert(tag, at: 0) }
            let id = stableStackID(frames)
            if var existing = merged[id] {
                existing.liveBytes += raw.liveBytes
                existing.liveObjects += raw.liveObjects
                existing.allocatedBytes += raw.allocatedBytes
                existing.allocatedObjects += raw.allocatedObjects
                merged[id] = existing
            } else {
                merged[id] = AllocationSite(
                    stackID: id, liveBytes: raw.liveBytes, liveObjects: raw.liveObjects,
                    allocatedBytes: raw.allocatedBytes, allocatedObjects: raw.allocatedObjects,
                    typeName: Symbolizer.allocatedTypeName(in: frames), frames: frames)
            }
        }
        return merged.values.sorted { ($0.liveBytes, $0.allocatedBytes) > ($1.liveBytes, $1.allocatedBytes) }
    }

    /// FNV-1a over what a frame means (function, file, line), so the same code path has the same
    /// id in every process and on every host.
    static func stableStackID(_ frames: [StackFrame]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            hash = (hash ^ 0xFF) &* 0x100_0000_01B3
        }
        for frame in frames {
            mix(frame.function)
            mix(frame.file ?? "")
            mix(frame.line.map(String.init) ?? "")
        }
        return hash
    }
}
