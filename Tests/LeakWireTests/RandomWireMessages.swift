import LeakTestSupport
import LeakWire

/// Seeded random messages whose values reach every edge their types allow: 0, 1, the maximum, each
/// varint length, negative numbers, NaN and the infinities, empty and long strings (multi-byte
/// characters included), empty and large repeated fields, enum numbers this build does not know.
struct RandomWireMessages {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    // MARK: Agent -> collector (hand-written)

    mutating func hello() -> Wire.Hello {
        Wire.Hello(
            supportedVersions: (0..<count(large: 300)).map { _ in uint32() },
            role: Wire.Role(rawValue: enumeration(known: 3)),
            hostName: string(), serviceName: string(), processInstanceID: bytes(), pid: uint32(),
            processStartUnixNanos: int64(), agentVersion: string(), sampleMeanBytes: uint64())
    }

    mutating func snapshot() -> Wire.Snapshot {
        Wire.Snapshot(
            sequence: uint64(), timestampUnixNanos: int64(),
            stacks: (0..<count(large: 24)).map { _ in stack() },
            stats: Wire.Stats(totalAllocatedBytes: uint64(), currentBytes: uint64(), peakBytes: uint64(),
                              allocationCount: uint64(), freeCount: uint64(), blocksOutstanding: int64(),
                              rssBytes: uint64(), uptimeSeconds: double()),
            overhead: Wire.AgentOverhead(trackerBytes: uint64(), agentHeapBytes: uint64()),
            sizeClasses: (0..<count(large: 64)).map { _ in Wire.SizeClass(upperBoundBytes: uint64(), count: uint64(), bytes: uint64()) },
            topSizes: (0..<count(large: 64)).map { _ in Wire.ExactSize(size: uint64(), count: uint64()) },
            sites: (0..<count(large: 300)).map { _ in
                Wire.Site(stackID: uint64(), liveBytes: uint64(), liveObjects: uint64(), allocatedBytes: uint64(),
                          typeName: random.chance(0.5) ? string() : nil)
            },
            events: (0..<count(large: 20)).map { _ in
                var event = Wire.Event(kind: Wire.EventKind(rawValue: enumeration(known: 7)), timestampUnixNanos: int64(),
                                       value: uint64(), droppedCount: uint64(), message: string(), thresholdBytes: uint64())
                if random.chance(0.5) {
                    event.memoryErrorKind = Wire.MemoryErrorKind(rawValue: enumeration(known: 7))
                    event.access = Wire.MemoryAccess(rawValue: enumeration(known: 4))
                    event.faultAddress = uint64()
                    event.blockOffset = int64()
                    event.blockSizeBytes = uint64()
                    event.threadID = uint32()
                    event.accessStackID = uint64()
                    event.allocationStackID = uint64()
                    event.freeStackID = uint64()
                    event.recovered = random.chance(0.5)
                }
                return event
            })
    }

    mutating func stack() -> Wire.Stack {
        Wire.Stack(id: uint64(), frames: (0..<count(large: 128)).map { _ in
            Wire.Frame(function: string(), file: string(), line: uint32(), image: string(), address: uint64(),
                       imageOffset: random.chance(0.5) ? uint64() : nil, inlined: random.chance(0.2))
        })
    }

    // MARK: Collector -> agent (generated)

    mutating func challenge() -> Leakwatch_V1_Challenge {
        .with {
            $0.chosenVersion = uint32()
            $0.nonce = .init(bytes())
            $0.collectorVersion = string()
        }
    }

    mutating func welcome() -> Leakwatch_V1_Welcome {
        .with {
            $0.accepted = random.chance(0.5)
            $0.lastAcknowledgedSequence = uint64()
            $0.version = uint32()
        }
    }

    mutating func error() -> Leakwatch_V1_Error {
        .with {
            $0.code = Leakwatch_V1_ErrorCode(rawValue: Int(enumeration(known: 11)))!
            $0.message = string()
            $0.requestID = uint64()
        }
    }

    mutating func ack() -> Leakwatch_V1_Ack { .with { $0.sequence = uint64() } }

    // MARK: Values

    mutating func uint64() -> UInt64 {
        switch random.index(6) {
        case 0: 0
        case 1: .max
        case 2: UInt64(random.index(128))  // one byte
        case 3: 1 << UInt64(random.index(64))  // every varint length
        case 4: (1 << UInt64(random.index(64))) - 1
        default: random.next()
        }
    }

    mutating func int64() -> Int64 {
        random.chance(0.1) ? [.min, -1, .max][random.index(3)] : Int64(bitPattern: uint64())
    }

    mutating func uint32() -> UInt32 { UInt32(truncatingIfNeeded: uint64()) }

    mutating func double() -> Double {
        let edges: [Double] = [0, -0.0, .nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 1e-300]
        return random.chance(0.5) ? edges[random.index(edges.count)] : random.uniform(-1e12, 1e12)
    }

    /// A known value, or one this build does not know (negative ones take ten bytes).
    mutating func enumeration(known: Int) -> Int32 {
        random.chance(0.8) ? Int32(random.index(known)) : [Int32.min, -1, Int32(known), 1000, .max][random.index(5)]
    }

    mutating func string() -> String {
        switch random.index(40) {
        case 0..<8: ""
        case 8: String(repeating: "Modul.Typ<é, 🦀>.", count: 1 + random.index(2000))  // up to 34 KB
        case 9: "\u{0}"
        default: String((0..<random.index(80)).map { _ in Character(Unicode.Scalar(UInt8(32 + random.index(95)))) })
        }
    }

    mutating func bytes() -> [UInt8] {
        random.chance(0.2) ? [] : (0..<random.index(random.chance(0.1) ? 70_000 : 40)).map { _ in UInt8(random.index(256)) }
    }

    /// Mostly a few, sometimes none, now and then up to `large`.
    mutating func count(large: Int) -> Int {
        switch random.index(10) {
        case 0: 0
        case 1: large
        default: random.index(4)
        }
    }
}
