// The encodings of what an agent sends: fields in field-number order, numbers from leakwatch.proto.

extension Wire.Hello: WireEncodable {
    public var kind: MessageKind { .hello }

    public func serializedBody() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.packedUInt32(1, supportedVersions)
        writer.enumeration(2, role.rawValue)
        writer.string(3, hostName)
        writer.string(4, serviceName)
        writer.bytes(5, processInstanceID)
        writer.uint32(6, pid)
        writer.int64(7, processStartUnixNanos)
        writer.string(8, agentVersion)
        writer.uint64(9, sampleMeanBytes)
        return writer.bytes
    }
}

extension Wire.Authenticate: WireEncodable {
    public var kind: MessageKind { .authenticate }

    public func serializedBody() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.bytes(1, proof)
        return writer.bytes
    }
}

extension Wire.Snapshot: WireEncodable {
    public var kind: MessageKind { .snapshot }

    public func serializedBody() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.uint64(1, sequence)
        writer.int64(2, timestampUnixNanos)
        for stack in stacks { writer.message(3, stack.write) }
        writer.message(4, stats.write)
        writer.message(5, overhead.write)
        for sizeClass in sizeClasses { writer.message(6, sizeClass.write) }
        for size in topSizes { writer.message(7, size.write) }
        for site in sites { writer.message(8, site.write) }
        for event in events { writer.message(9, event.write) }
        return writer.bytes
    }
}

extension Wire.Stats {
    func write(to writer: inout ProtobufWriter) {
        writer.uint64(1, totalAllocatedBytes)
        writer.uint64(2, currentBytes)
        writer.uint64(3, peakBytes)
        writer.uint64(4, allocationCount)
        writer.uint64(5, freeCount)
        writer.int64(6, blocksOutstanding)
        writer.uint64(7, rssBytes)
        writer.double(8, uptimeSeconds)
    }
}

extension Wire.AgentOverhead {
    func write(to writer: inout ProtobufWriter) {
        writer.uint64(1, trackerBytes)
        writer.uint64(2, agentHeapBytes)
    }
}

extension Wire.SizeClass {
    func write(to writer: inout ProtobufWriter) {
        writer.uint64(1, upperBoundBytes)
        writer.uint64(2, count)
        writer.uint64(3, bytes)
    }
}

extension Wire.ExactSize {
    func write(to writer: inout ProtobufWriter) {
        writer.uint64(1, size)
        writer.uint64(2, count)
    }
}

extension Wire.Site {
    func write(to writer: inout ProtobufWriter) {
        writer.uint64(1, stackID)
        writer.uint64(2, liveBytes)
        writer.uint64(3, liveObjects)
        writer.uint64(4, allocatedBytes)
        writer.optionalString(5, typeName)
    }
}

extension Wire.Frame {
    func write(to writer: inout ProtobufWriter) {
        writer.string(1, function)
        writer.string(2, file)
        writer.uint32(3, line)
        writer.string(4, image)
        writer.uint64(5, address)
        writer.optionalUInt64(6, imageOffset)
        writer.bool(7, inlined)
    }
}

extension Wire.Stack {
    func write(to writer: inout ProtobufWriter) {
        writer.uint64(1, id)
        for frame in frames { writer.message(2, frame.write) }
    }
}

extension Wire.Event {
    func write(to writer: inout ProtobufWriter) {
        writer.enumeration(1, kind.rawValue)
        writer.int64(2, timestampUnixNanos)
        writer.uint64(3, value)
        writer.uint64(4, droppedCount)
        writer.string(5, message)
        writer.uint64(6, thresholdBytes)
        writer.enumeration(7, memoryErrorKind.rawValue)
        writer.enumeration(8, access.rawValue)
        writer.uint64(9, faultAddress)
        writer.int64(10, blockOffset)
        writer.uint64(11, blockSizeBytes)
        writer.uint32(12, threadID)
        writer.uint64(13, accessStackID)
        writer.uint64(14, allocationStackID)
        writer.uint64(15, freeStackID)
        writer.bool(16, recovered)
    }
}
