import LeakTestSupport
import LeakWire

enum Fixtures {
    /// The Hello whose frame is printed in docs/PROTOCOL.md.
    static var exampleHello: Leakwatch_V1_Hello {
        var hello = Leakwatch_V1_Hello()
        hello.supportedVersions = [1]
        hello.role = .agent
        hello.hostName = "web-3"
        hello.serviceName = "checkout"
        hello.processInstanceID = .init((0..<16).map { UInt8($0) })
        hello.pid = 4242
        hello.processStartUnixNanos = 1_764_000_000_000_000_000
        hello.agentVersion = "0.1.0"
        hello.sampleMeanBytes = 524_288
        return hello
    }

    /// The same Hello as the agent sends it.
    static var exampleWireHello: Wire.Hello { Wire.Hello(exampleHello) }

    static let token: [UInt8] = Array("correct horse battery staple".utf8)

    static func frame(function: String, file: String, line: UInt32, address: UInt64) -> Leakwatch_V1_Frame {
        var frame = Leakwatch_V1_Frame()
        frame.function = function
        frame.file = file
        frame.line = line
        frame.image = "/usr/local/bin/checkout"
        frame.address = address
        return frame
    }

    static var exampleSnapshot: Leakwatch_V1_Snapshot {
        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.sequence = 7
        snapshot.timestampUnixNanos = 1_764_000_600_000_000_000
        snapshot.stats.totalAllocatedBytes = 9_000_000_000
        snapshot.stats.currentBytes = 120_000_000
        snapshot.stats.peakBytes = 130_000_000
        snapshot.stats.allocationCount = 50_000_000
        snapshot.stats.freeCount = 49_900_000
        snapshot.stats.blocksOutstanding = 100_000
        snapshot.stats.rssBytes = 200_000_000
        snapshot.stats.uptimeSeconds = 600.5
        snapshot.overhead.trackerBytes = 4 << 20
        snapshot.overhead.agentHeapBytes = 300_000
        var sizeClass = Leakwatch_V1_SizeClass()
        sizeClass.upperBoundBytes = 64
        sizeClass.count = 1000
        sizeClass.bytes = 40_000
        snapshot.sizeClasses = [sizeClass]
        var exact = Leakwatch_V1_ExactSize()
        exact.size = 48
        exact.count = 777
        snapshot.topSizes = [exact]
        var site = Leakwatch_V1_Site()
        site.stackID = 3
        site.liveBytes = 1_048_576
        site.liveObjects = 2
        site.allocatedBytes = 10_485_760
        site.typeName = "Checkout.Order"
        snapshot.sites = [site]
        var stack = Leakwatch_V1_Stack()
        stack.id = 3
        stack.frames = [frame(function: "Checkout.OrderCache.insert(_:)", file: "OrderCache.swift", line: 41,
                              address: 0x5555_0000_1234)]
        snapshot.stacks = [stack]
        var event = Leakwatch_V1_Event()
        event.kind = .snapshotsDropped
        event.timestampUnixNanos = 1_764_000_590_000_000_000
        event.droppedCount = 3
        event.message = "spool full"
        snapshot.events = [event]
        return snapshot
    }
}

/// A process whose 200 sampled sites drift a little between snapshots, as a server's do:
/// a live estimate moves by a sample now and then, allocated bytes grow at busy sites,
/// cumulative size-class counters grow.
struct RealisticProcess {
    var random = SplitMix64(seed: 42)
    let sampleMeanBytes: UInt64 = 524_288
    var sites: [Leakwatch_V1_Site] = []
    var stacks: [Leakwatch_V1_Stack] = []
    var sizeClasses: [Leakwatch_V1_SizeClass] = []
    var topSizes: [Leakwatch_V1_ExactSize] = []
    var stats = Leakwatch_V1_Stats()
    var timestampUnixNanos: Int64 = 1_764_000_000_000_000_000
    var sequence: UInt64 = 0

    /// `smallStackIDs`: ids 1...N (as the shipper assigns) instead of 64-bit hashes.
    init(siteCount: Int = 200, smallStackIDs: Bool = true) {
        let modules = ["Checkout", "NIOCore", "NIOPosix", "Foundation", "GRDB", "Logging"]
        let verbs = ["handle", "decode", "encode", "insert", "append", "makeBuffer", "read", "write", "parse"]
        for index in 0..<siteCount {
            let id = smallStackIDs ? UInt64(index + 1) : random.next()
            var stack = Leakwatch_V1_Stack()
            stack.id = id
            let depth = Int.random(in: 12...28, using: &random)
            for depthIndex in 0..<depth {
                let module = modules[Int.random(in: 0..<modules.count, using: &random)]
                let verb = verbs[Int.random(in: 0..<verbs.count, using: &random)]
                let type = "Type\(Int.random(in: 0..<60, using: &random))"
                stack.frames.append(Fixtures.frame(
                    function: "\(module).\(type).\(verb)(_:context:) async throws -> ()",
                    file: "/build/Sources/\(module)/\(type).swift",
                    line: UInt32.random(in: 10...900, using: &random),
                    address: 0x5555_5555_0000 + UInt64(depthIndex * 0x40) + UInt64.random(in: 0..<0x100000, using: &random)))
            }
            stacks.append(stack)
            var site = Leakwatch_V1_Site()
            site.stackID = id
            let samples = UInt64.random(in: 1...40, using: &random)
            site.liveObjects = samples * UInt64.random(in: 1...3, using: &random)
            site.liveBytes = samples * sampleMeanBytes + UInt64.random(in: 0..<4096, using: &random)
            site.allocatedBytes = site.liveBytes * UInt64.random(in: 2...50, using: &random)
            if index % 4 == 0 { site.typeName = "Checkout.Type\(index)" }
            sites.append(site)
        }
        var bound: UInt64 = 16
        while bound <= 1 << 24 {
            var sizeClass = Leakwatch_V1_SizeClass()
            sizeClass.upperBoundBytes = bound
            sizeClass.count = UInt64.random(in: 1_000...10_000_000, using: &random)
            sizeClass.bytes = sizeClass.count * bound / 2
            sizeClasses.append(sizeClass)
            bound *= 2
        }
        for size in [16, 24, 32, 48, 64, 80, 96, 128, 160, 256, 512, 1024, 4096, 8192, 16384, 65536] {
            var exact = Leakwatch_V1_ExactSize()
            exact.size = UInt64(size)
            exact.count = UInt64.random(in: 1_000...50_000_000, using: &random)
            topSizes.append(exact)
        }
        stats.totalAllocatedBytes = 80_000_000_000
        stats.currentBytes = 350_000_000
        stats.peakBytes = 420_000_000
        stats.allocationCount = 900_000_000
        stats.freeCount = 899_000_000
        stats.blocksOutstanding = 1_000_000
        stats.rssBytes = 512_000_000
        stats.uptimeSeconds = 86_400
    }

    static func snapshot(siteCount: Int) -> Leakwatch_V1_Snapshot {
        var process = RealisticProcess(siteCount: siteCount)
        return process.nextSnapshot()
    }

    /// Advances one 10-second interval and returns the full snapshot (every stack).
    mutating func nextSnapshot() -> Leakwatch_V1_Snapshot {
        sequence += 1
        timestampUnixNanos += 10_000_000_000
        for index in sites.indices where Int.random(in: 0..<10, using: &random) < 3 {
            let up = Bool.random(using: &random)
            if up || sites[index].liveObjects <= 1 {
                sites[index].liveObjects += 1
                sites[index].liveBytes += sampleMeanBytes + UInt64.random(in: 0..<512, using: &random)
            } else {
                sites[index].liveObjects -= 1
                sites[index].liveBytes -= min(sites[index].liveBytes, sampleMeanBytes)
            }
        }
        for index in sites.indices where Bool.random(using: &random) {
            sites[index].allocatedBytes += sampleMeanBytes * UInt64.random(in: 1...8, using: &random)
        }
        for index in sizeClasses.indices {
            let more = UInt64.random(in: 0...20_000, using: &random)
            sizeClasses[index].count += more
            sizeClasses[index].bytes += more * sizeClasses[index].upperBoundBytes / 2
        }
        for index in topSizes.indices {
            topSizes[index].count += UInt64.random(in: 0...50_000, using: &random)
        }
        let allocations = UInt64.random(in: 500_000...1_500_000, using: &random)
        stats.allocationCount += allocations
        stats.freeCount += allocations - UInt64.random(in: 0...1000, using: &random)
        stats.blocksOutstanding = Int64(stats.allocationCount) - Int64(stats.freeCount)
        stats.totalAllocatedBytes += allocations * 180
        stats.currentBytes = stats.currentBytes + UInt64.random(in: 0...2_000_000, using: &random) - 1_000_000
        stats.peakBytes = max(stats.peakBytes, stats.currentBytes)
        stats.rssBytes += UInt64.random(in: 0...8192, using: &random) * 4096 / 8192
        stats.uptimeSeconds += 10

        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.sequence = sequence
        snapshot.timestampUnixNanos = timestampUnixNanos
        snapshot.stats = stats
        snapshot.overhead.trackerBytes = 6 << 20
        snapshot.overhead.agentHeapBytes = 700_000 + UInt64.random(in: 0...50_000, using: &random)
        snapshot.sizeClasses = sizeClasses
        snapshot.topSizes = topSizes
        snapshot.sites = sites
        snapshot.stacks = stacks
        return snapshot
    }
}
