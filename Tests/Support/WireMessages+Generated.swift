import Foundation
import LeakWire

// The agent's hand-written messages (LeakWireCore's `Wire`) and SwiftProtobuf's generated ones,
// copied field by field by name, never through either encoding: what the tests use to say which
// generated message a hand-written one must encode to, and to feed generated test snapshots to
// the agent's shipper.

extension Leakwatch_V1_Hello {
    public init(_ hello: Wire.Hello) {
        self.init()
        supportedVersions = hello.supportedVersions
        role = Leakwatch_V1_Role(rawValue: Int(hello.role.rawValue))!
        hostName = hello.hostName
        serviceName = hello.serviceName
        processInstanceID = Data(hello.processInstanceID)
        pid = hello.pid
        processStartUnixNanos = hello.processStartUnixNanos
        agentVersion = hello.agentVersion
        sampleMeanBytes = hello.sampleMeanBytes
    }
}

extension Wire.Hello {
    public init(_ hello: Leakwatch_V1_Hello) {
        self.init(supportedVersions: hello.supportedVersions, role: Wire.Role(rawValue: Int32(hello.role.rawValue)),
                  hostName: hello.hostName, serviceName: hello.serviceName, processInstanceID: Array(hello.processInstanceID),
                  pid: hello.pid, processStartUnixNanos: hello.processStartUnixNanos, agentVersion: hello.agentVersion,
                  sampleMeanBytes: hello.sampleMeanBytes)
    }
}

extension Leakwatch_V1_Authenticate {
    public init(_ authenticate: Wire.Authenticate) {
        self.init()
        proof = Data(authenticate.proof)
    }
}

extension Wire.Challenge {
    public init(_ challenge: Leakwatch_V1_Challenge) {
        self.init(chosenVersion: challenge.chosenVersion, nonce: Array(challenge.nonce),
                  collectorVersion: challenge.collectorVersion)
    }
}

extension Wire.Welcome {
    public init(_ welcome: Leakwatch_V1_Welcome) {
        self.init(accepted: welcome.accepted, lastAcknowledgedSequence: welcome.lastAcknowledgedSequence,
                  version: welcome.version)
    }
}

extension Wire.Error {
    public init(_ error: Leakwatch_V1_Error) {
        self.init(code: Wire.ErrorCode(rawValue: Int32(error.code.rawValue)), message: error.message,
                  requestID: error.requestID)
    }
}

extension Wire.Ack {
    public init(_ ack: Leakwatch_V1_Ack) { self.init(sequence: ack.sequence) }
}

extension Leakwatch_V1_Snapshot {
    public init(_ snapshot: Wire.Snapshot) {
        self.init()
        sequence = snapshot.sequence
        timestampUnixNanos = snapshot.timestampUnixNanos
        stacks = snapshot.stacks.map { stack in
            .with {
                $0.id = stack.id
                $0.frames = stack.frames.map { frame in
                    .with {
                        $0.function = frame.function
                        $0.file = frame.file
                        $0.line = frame.line
                        $0.image = frame.image
                        $0.address = frame.address
                        if let imageOffset = frame.imageOffset { $0.imageOffset = imageOffset }
                        $0.inlined = frame.inlined
                    }
                }
            }
        }
        stats = .with {
            $0.totalAllocatedBytes = snapshot.stats.totalAllocatedBytes
            $0.currentBytes = snapshot.stats.currentBytes
            $0.peakBytes = snapshot.stats.peakBytes
            $0.allocationCount = snapshot.stats.allocationCount
            $0.freeCount = snapshot.stats.freeCount
            $0.blocksOutstanding = snapshot.stats.blocksOutstanding
            $0.rssBytes = snapshot.stats.rssBytes
            $0.uptimeSeconds = snapshot.stats.uptimeSeconds
        }
        overhead = .with {
            $0.trackerBytes = snapshot.overhead.trackerBytes
            $0.agentHeapBytes = snapshot.overhead.agentHeapBytes
        }
        sizeClasses = snapshot.sizeClasses.map { sizeClass in
            .with {
                $0.upperBoundBytes = sizeClass.upperBoundBytes
                $0.count = sizeClass.count
                $0.bytes = sizeClass.bytes
            }
        }
        topSizes = snapshot.topSizes.map { size in .with { $0.size = size.size; $0.count = size.count } }
        sites = snapshot.sites.map { site in
            .with {
                $0.stackID = site.stackID
                $0.liveBytes = site.liveBytes
                $0.liveObjects = site.liveObjects
                $0.allocatedBytes = site.allocatedBytes
                if let typeName = site.typeName { $0.typeName = typeName }
            }
        }
        events = snapshot.events.map { event in
            .with {
                $0.kind = Leakwatch_V1_EventKind(rawValue: Int(event.kind.rawValue))!
                $0.timestampUnixNanos = event.timestampUnixNanos
                $0.value = event.value
                $0.droppedCount = event.droppedCount
                $0.message = event.message
                $0.thresholdBytes = event.thresholdBytes
                $0.memoryErrorKind = Leakwatch_V1_MemoryErrorKind(rawValue: Int(event.memoryErrorKind.rawValue))!
                $0.access = Leakwatch_V1_MemoryAccess(rawValue: Int(event.access.rawValue))!
                $0.faultAddress = event.faultAddress
                $0.blockOffset = event.blockOffset
                $0.blockSizeBytes = event.blockSizeBytes
                $0.threadID = event.threadID
                $0.accessStackID = event.accessStackID
                $0.allocationStackID = event.allocationStackID
                $0.freeStackID = event.freeStackID
                $0.recovered = event.recovered
            }
        }
    }
}

extension Wire.Snapshot {
    public init(_ snapshot: Leakwatch_V1_Snapshot) {
        self.init(
            sequence: snapshot.sequence,
            timestampUnixNanos: snapshot.timestampUnixNanos,
            stacks: snapshot.stacks.map { stack in
                Wire.Stack(id: stack.id, frames: stack.frames.map { frame in
                    Wire.Frame(function: frame.function, file: frame.file, line: frame.line, image: frame.image,
                               address: frame.address, imageOffset: frame.hasImageOffset ? frame.imageOffset : nil,
                               inlined: frame.inlined)
                })
            },
            stats: Wire.Stats(
                totalAllocatedBytes: snapshot.stats.totalAllocatedBytes, currentBytes: snapshot.stats.currentBytes,
                peakBytes: snapshot.stats.peakBytes, allocationCount: snapshot.stats.allocationCount,
                freeCount: snapshot.stats.freeCount, blocksOutstanding: snapshot.stats.blocksOutstanding,
                rssBytes: snapshot.stats.rssBytes, uptimeSeconds: snapshot.stats.uptimeSeconds),
            overhead: Wire.AgentOverhead(trackerBytes: snapshot.overhead.trackerBytes,
                                         agentHeapBytes: snapshot.overhead.agentHeapBytes),
            sizeClasses: snapshot.sizeClasses.map {
                Wire.SizeClass(upperBoundBytes: $0.upperBoundBytes, count: $0.count, bytes: $0.bytes)
            },
            topSizes: snapshot.topSizes.map { Wire.ExactSize(size: $0.size, count: $0.count) },
            sites: snapshot.sites.map { site in
                Wire.Site(stackID: site.stackID, liveBytes: site.liveBytes, liveObjects: site.liveObjects,
                          allocatedBytes: site.allocatedBytes, typeName: site.hasTypeName ? site.typeName : nil)
            },
            events: snapshot.events.map { event in
                var wire = Wire.Event(kind: Wire.EventKind(rawValue: Int32(event.kind.rawValue)),
                                      timestampUnixNanos: event.timestampUnixNanos, value: event.value,
                                      droppedCount: event.droppedCount, message: event.message,
                                      thresholdBytes: event.thresholdBytes)
                wire.memoryErrorKind = Wire.MemoryErrorKind(rawValue: Int32(event.memoryErrorKind.rawValue))
                wire.access = Wire.MemoryAccess(rawValue: Int32(event.access.rawValue))
                wire.faultAddress = event.faultAddress
                wire.blockOffset = event.blockOffset
                wire.blockSizeBytes = event.blockSizeBytes
                wire.threadID = event.threadID
                wire.accessStackID = event.accessStackID
                wire.allocationStackID = event.allocationStackID
                wire.freeStackID = event.freeStackID
                wire.recovered = event.recovered
                return wire
            })
    }
}
