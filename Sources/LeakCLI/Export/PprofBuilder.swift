import LeakWire

/// Turns a host's sampled sites into a pprof heap profile with three sample types, in this
/// order: `inuse_space` (bytes, the default), `inuse_objects` (count), `alloc_space` (bytes).
/// A difference against a base (`export --base`) has the first two only, each value the change
/// since the base, negative where a site shrank: what `go tool pprof -diff_base` would compute.
///
/// One pprof Sample per site; its locations are the site's frames, leaf first, as pprof wants.
/// Frames with the same (image, address, function, file, line) share one Location; functions
/// with the same (name, file) share one Function; images become Mappings. A site's Swift type
/// goes in a string label `type`.
public struct PprofBuilder {
    private var profile = Perftools_Profiles_Profile()
    private var strings: [String: Int64] = [:]
    private var functions: [String: UInt64] = [:]
    private var locations: [String: UInt64] = [:]
    private var mappings: [String: UInt64] = [:]

    /// A live heap, or the change of one since a base.
    public enum Kind: Sendable {
        case heap
        case difference
    }

    public init(timeUnixNanos: Int64, durationNanos: Int64, sampleMeanBytes: Int64 = 512 << 10, kind: Kind = .heap) {
        _ = string("")
        profile.sampleType = [valueType("inuse_space", "bytes"), valueType("inuse_objects", "count")]
        if kind == .heap { profile.sampleType.append(valueType("alloc_space", "bytes")) }
        profile.defaultSampleType = string("inuse_space")
        profile.periodType = valueType("space", "bytes")
        profile.period = sampleMeanBytes
        profile.timeNanos = timeUnixNanos
        profile.durationNanos = durationNanos
    }

    private mutating func string(_ text: String) -> Int64 {
        if let index = strings[text] { return index }
        let index = Int64(profile.stringTable.count)
        profile.stringTable.append(text)
        strings[text] = index
        return index
    }

    private mutating func valueType(_ type: String, _ unit: String) -> Perftools_Profiles_ValueType {
        var value = Perftools_Profiles_ValueType()
        value.type = string(type)
        value.unit = string(unit)
        return value
    }

    public mutating func comment(_ text: String) {
        profile.comment.append(string(text))
    }

    private mutating func mappingID(image: String) -> UInt64 {
        if image.isEmpty { return 0 }
        if let id = mappings[image] { return id }
        var mapping = Perftools_Profiles_Mapping()
        mapping.id = UInt64(profile.mapping.count + 1)
        mapping.filename = string(image)
        mapping.hasFunctions_p = true
        mapping.hasFilenames_p = true
        mapping.hasLineNumbers_p = true
        profile.mapping.append(mapping)
        mappings[image] = mapping.id
        return mapping.id
    }

    private mutating func functionID(_ frame: Leakwatch_V1_Frame) -> UInt64 {
        let name = frame.function.isEmpty ? "0x" + String(frame.address, radix: 16) : frame.function
        let key = name + "\u{0}" + frame.file
        if let id = functions[key] { return id }
        var function = Perftools_Profiles_Function()
        function.id = UInt64(profile.function.count + 1)
        function.name = string(name)
        function.systemName = string(name)
        function.filename = string(frame.file)
        profile.function.append(function)
        functions[key] = function.id
        return function.id
    }

    private mutating func locationID(_ frame: Leakwatch_V1_Frame) -> UInt64 {
        let key = "\(frame.image)\u{0}\(frame.address)\u{0}\(frame.function)\u{0}\(frame.file)\u{0}\(frame.line)"
        if let id = locations[key] { return id }
        var location = Perftools_Profiles_Location()
        location.id = UInt64(profile.location.count + 1)
        location.mappingID = mappingID(image: frame.image)
        location.address = frame.address
        var line = Perftools_Profiles_Line()
        line.functionID = functionID(frame)
        line.line = Int64(frame.line)
        location.line = [line]
        profile.location.append(location)
        locations[key] = location.id
        return location.id
    }

    public mutating func add(_ site: Leakwatch_V1_SiteReport) {
        add(stackID: site.stackID, frames: site.frames, typeName: site.hasTypeName ? site.typeName : "", values: [
            Int64(clamping: site.liveBytes), Int64(clamping: site.liveObjects), Int64(clamping: site.allocatedBytes),
        ])
    }

    /// A site's change since the base, for a `.difference` profile.
    public mutating func add(_ change: Leakwatch_V1_SiteChange) {
        add(stackID: change.stackID, frames: change.frames, typeName: change.hasTypeName ? change.typeName : "", values: [
            SiteChangeRendering.deltaBytes(change), SiteChangeRendering.deltaObjects(change),
        ])
    }

    private mutating func add(stackID: UInt64, frames: [Leakwatch_V1_Frame], typeName: String, values: [Int64]) {
        var sample = Perftools_Profiles_Sample()
        var frames = frames
        if frames.isEmpty {
            var unknown = Leakwatch_V1_Frame()
            unknown.function = "stack \(stackID) (not symbolized)"
            frames = [unknown]
        }
        sample.locationID = frames.map { locationID($0) }
        sample.value = values
        if !typeName.isEmpty {
            var label = Perftools_Profiles_Label()
            label.key = string("type")
            label.str = string(typeName)
            sample.label.append(label)
        }
        var stackLabel = Perftools_Profiles_Label()
        stackLabel.key = string("stack_id")
        stackLabel.num = Int64(clamping: stackID)
        sample.label.append(stackLabel)
        profile.sample.append(sample)
    }

    public func build() -> Perftools_Profiles_Profile { profile }

    /// The gzipped profile bytes, as `go tool pprof` reads them.
    public func gzipped() throws -> [UInt8] {
        Gzip.compress(try profile.serializedBytes())
    }
}
