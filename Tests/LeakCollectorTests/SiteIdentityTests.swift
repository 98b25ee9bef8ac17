import Foundation
import GRDB
@testable import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// A site is the same site in every start of a process: ASLR moves every return address at each
/// start, so the stack's identity must not depend on them.
@Suite struct SiteIdentityTests {
    /// Load addresses of the executable in two starts of the same binary (ASLR).
    static let firstLoadBase: UInt64 = 0x55a0_1234_0000
    static let secondLoadBase: UInt64 = 0x5619_8870_0000

    /// Stack `index`: symbolized frames, then one frame without a symbol (a stripped library),
    /// as an agent in a process whose executable is loaded at `loadBase` sends them.
    static func stack(_ index: Int, loadBase: UInt64) -> Leakwatch_V1_Stack {
        var stack = Leakwatch_V1_Stack()
        stack.id = UInt64(index + 1)
        for depth in 0..<3 {
            var frame = Leakwatch_V1_Frame()
            frame.function = "App.Handler\(index).step\(depth)()"
            frame.file = "/src/App/Handler\(index).swift"
            frame.line = UInt32(20 + depth)
            frame.image = "app"
            frame.imageOffset = UInt64(0x4_0000 + 0x100 * index + 0x10 * depth)
            frame.address = loadBase + frame.imageOffset
            stack.frames.append(frame)
        }
        var stripped = Leakwatch_V1_Frame()
        stripped.imageOffset = 0x2_3450
        stripped.address = loadBase + 0x1000_0000 + stripped.imageOffset
        stripped.function = "0x" + String(stripped.address, radix: 16)
        stripped.image = "libstripped.so"
        stack.frames.append(stripped)
        return stack
    }

    /// Snapshot `sequence` of one process start: two sites, site 0 growing 1 MB per snapshot.
    static func snapshot(sequence: UInt64, timestampNanos: Int64, loadBase: UInt64, defineStacks: Bool) -> Leakwatch_V1_Snapshot {
        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.sequence = sequence
        snapshot.timestampUnixNanos = timestampNanos
        snapshot.stats.currentBytes = 50_000_000 + sequence * 1_000_000
        snapshot.stats.allocationCount = 1000 * sequence
        snapshot.stats.uptimeSeconds = Double(sequence) * 10
        for index in 0..<2 {
            var site = Leakwatch_V1_Site()
            site.stackID = UInt64(index + 1)
            site.liveBytes = index == 0 ? sequence * 1_000_000 : 4_000_000
            site.liveObjects = 10
            snapshot.sites.append(site)
            if defineStacks { snapshot.stacks.append(stack(index, loadBase: loadBase)) }
        }
        return snapshot
    }

    @Test func theSameCodeInTwoStartsWithDifferentLoadAddressesIsOneSiteWithOneSeries() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let port = running.port
            // Two process instances of the same binary on one host, one after the other.
            for (start, loadBase) in [(0, Self.firstLoadBase), (1, Self.secondLoadBase)] {
                try await blocking {
                    let agent = try TestAgent(port: port, hostName: "web-1", instanceID: [UInt8](repeating: UInt8(start + 1), count: 16))
                    for sequence in UInt64(1)...5 {
                        let timestamp = baseTimeNanos + Int64(start * 100 + Int(sequence)) * 10_000_000_000
                        try agent.sendAndWait(Self.snapshot(
                            sequence: sequence, timestampNanos: timestamp, loadBase: loadBase, defineStacks: sequence == 1))
                    }
                }
            }
            let store = running.collector.sqliteStore
            let (stackCount, instanceCount) = try store.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM stack")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM processInstance")!)
            }
            #expect(instanceCount == 2)
            #expect(stackCount == 2, "one stack row per code path, not per process start")

            let host = try #require(try store.host(named: "web-1"))
            let window = try store.window(host: host, fromMs: 0, toMs: .max)
            #expect(window.sites.count == 2)
            for (_, series) in window.sites {
                #expect(series.count == 10, "the series continues across the restart")
                #expect(Set(series.map(\.instanceId)).count == 2)
            }

            // Over the protocol: the growing site's series spans both starts, and its stack keeps
            // the image offsets (addresses are the first start's).
            let growing = try #require(window.sites.first { $0.value.last?.liveBytes == 5_000_000 }?.key)
            let client = try await blocking { try TestAgent(port: port, hostName: "laptop", role: .client) }
            let reply = try await blocking {
                try client.query(.seriesRequest(.with { $0.requestID = 1; $0.host = "web-1"; $0.stackID = UInt64(growing); $0.toUnixNanos = Int64.max }))
            }
            guard case .seriesResponse(let series) = reply else { Issue.record("got \(reply)"); return }
            let oneStart: [UInt64] = (1...5).map { UInt64($0) * 1_000_000 }
            #expect(series.points.map(\.currentBytes) == oneStart + oneStart)
            #expect(Set(series.points.map(\.processInstanceID)).count == 2)
            let stacksReply = try await blocking { try client.query(.stacksRequest(.with { $0.requestID = 2; $0.host = "web-1"; $0.ids = [UInt64(growing)] })) }
            guard case .stacksResponse(let stacks) = stacksReply else { Issue.record("got \(stacksReply)"); return }
            let frames = try #require(stacks.stacks.first?.frames)
            #expect(frames.map(\.imageOffset) == Self.stack(0, loadBase: 0).frames.map(\.imageOffset))
            #expect(frames.allSatisfy { $0.hasImageOffset })
        }
    }

    @Test func aLeakThatResetsAtEveryRestartIsJudgedOnOneSeries() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let store = running.collector.sqliteStore
            // First start: 12 h in which one site grows 2 MB/h on a flat 100 MB heap; then a restart
            // and 4 h of the same growth from zero. Each start's agent sends its own addresses.
            let startMs: Int64 = 1_750_000_000_000
            var batch: [SnapshotIngest] = []
            var digests: Set<StackDigest> = []
            for (instance, hours, loadBase) in [("01", 12, Self.firstLoadBase), ("02", 4, Self.secondLoadBase)] {
                let instanceStartMs = instance == "01" ? startMs : startMs + 12 * 3_600_000 + 60_000
                let frames = Self.stack(0, loadBase: loadBase).frames.map {
                    StackFrame(address: $0.address, function: $0.function, file: $0.file, line: $0.line, image: $0.image,
                               imageOffset: $0.imageOffset)
                }
                let leak = StackDefinition(frames: frames)
                digests.insert(leak.digest)
                for index in 0..<(hours * 360) {
                    let timestampMs = instanceStartMs + Int64(index) * 10_000
                    let grown = Int64(2_000_000 * Double(index) / 360)
                    let noise = Int64((index * 7919) % 500_000)
                    batch.append(SnapshotIngest(
                        process: ProcessIdentity(hostName: "web-1", instanceKey: instance, serviceName: "api", startedAtMs: instanceStartMs),
                        sequence: Int64(index + 1), timestampMs: timestampMs,
                        stats: SnapshotStats(
                            bytesAllocatedTotal: Int64(index) * 1_000_000, bytesInUse: 100_000_000 + noise,
                            allocationCount: Int64(index) * 1000, freeCount: Int64(index) * 990, residentBytes: 150_000_000,
                            uptimeSeconds: Double(index) * 10),
                        newStacks: index == 0 ? [leak] : [],
                        sites: [SiteSample(stackDigest: leak.digest, liveBytesEstimate: 1_000_000 + grown, liveObjectsEstimate: 10, allocatedBytesTotal: 0)]))
                }
            }
            #expect(digests.count == 1, "both starts' frames have one digest")
            _ = try store.ingest(batch)
            #expect(try running.collector.maintenance.evaluateVerdicts() == 1)
            let host = try #require(try store.host(named: "web-1"))
            let verdict = try #require(try store.latestVerdict(hostId: host.id))
            let stackIDs = try store.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM stack") }
            #expect(stackIDs.count == 1)
            #expect(verdict.decodedSites.map(\.stackId) == stackIDs, "the site's verdict uses both starts: \(verdict)")
            #expect(verdict.status != "ok", "\(verdict)")
        }
    }

    @Test func upgradingReKeysStoredStacksSoTheNewestRowOfEachCodePathContinues() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/db.sqlite"
        // Before v4, two starts of one process stored the same code path twice (the digest mixed
        // addresses); a third row is another code path.
        func frames(_ function: String, loadBase: UInt64) -> String {
            let frame = StackFrame(address: loadBase + 0x40, function: function, file: "A.swift", line: 9, image: "app")
            return String(decoding: try! JSONEncoder().encode([frame]), as: UTF8.self)
        }
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator().migrate(queue, upTo: "v3-agent-overhead-threshold")
        try queue.write { db in
            let insert = "INSERT INTO stack (id, digest, frameCount, frames, typeName, firstSeenMs, lastSeenMs) VALUES (?, ?, 1, ?, NULL, 0, 0)"
            try db.execute(sql: insert, arguments: [1, Data(repeating: 1, count: 16), frames("A.leak()", loadBase: Self.firstLoadBase)])
            try db.execute(sql: insert, arguments: [2, Data(repeating: 2, count: 16), frames("A.leak()", loadBase: Self.secondLoadBase)])
            try db.execute(sql: insert, arguments: [3, Data(repeating: 3, count: 16), frames("A.other()", loadBase: Self.secondLoadBase)])
        }
        try queue.close()

        let store = try SQLiteStore(path: path, logger: .init(label: "test"))
        // A third start sends A.leak() from yet another load address: it is row 2, the newest.
        let third = StackDefinition(frames: [StackFrame(address: 0x7f00_0000_0040, function: "A.leak()", file: "A.swift", line: 9, image: "app")])
        let other = StackDefinition(frames: [StackFrame(address: 0x7f00_0000_0040, function: "A.other()", file: "A.swift", line: 9, image: "app")])
        #expect(try store.ingest([SnapshotIngest(
            process: ProcessIdentity(hostName: "web-1", instanceKey: "cc"), sequence: 1, timestampMs: 1000, stats: SnapshotStats(),
            newStacks: [third, other],
            sites: [third, other].map { SiteSample(stackDigest: $0.digest, liveBytesEstimate: 1, liveObjectsEstimate: 1, allocatedBytesTotal: 1) })]) == [.stored])
        let host = try #require(try store.host(named: "web-1"))
        #expect(Set(try store.window(host: host, fromMs: 0, toMs: 2000).sites.keys) == [2, 3])
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack") } == 3, "no new rows")
        let oldDigest = try store.read { db in try Data.fetchOne(db, sql: "SELECT digest FROM stack WHERE id = 1") }
        #expect(oldDigest == Data(repeating: 1, count: 16), "the older duplicate keeps its digest")
        try store.close()
    }

    @Test func frameIdentityIgnoresAbsoluteAddressesWhereItCan() {
        func digest(_ frames: StackFrame...) -> StackDigest { StackDigest(frames: frames) }
        let symbol = StackFrame(address: 0x55a0_0000_1000, function: "A.f()", file: "A.swift", line: 3, image: "app")
        var moved = symbol
        moved.address = 0x7700_0000_1000
        #expect(digest(symbol) == digest(moved), "symbolized: function, file, line, image")
        var otherLine = symbol
        otherLine.line = 4
        #expect(digest(symbol) != digest(otherLine))
        var otherImage = symbol
        otherImage.image = "libother.so"
        #expect(digest(symbol) != digest(otherImage))

        // Without a symbol: the offset in the image, when the agent sends it.
        let bare = StackFrame(address: 0x55a0_0000_2000, function: "0x55a000002000", image: "app", imageOffset: 0x2000)
        let bareMoved = StackFrame(address: 0x7700_0000_2000, function: "0x770000002000", image: "app", imageOffset: 0x2000)
        #expect(!bare.isSymbolized)
        #expect(digest(bare) == digest(bareMoved))
        let bareElsewhere = StackFrame(address: 0x55a0_0000_2010, function: "0x55a000002010", image: "app", imageOffset: 0x2010)
        #expect(digest(bare) != digest(bareElsewhere))
        // An old agent (no offset) and no symbol: only the address is left.
        let old = StackFrame(address: 0x55a0_0000_2000, function: "", image: "?")
        let oldMoved = StackFrame(address: 0x7700_0000_2000, function: "", image: "?")
        #expect(digest(old) != digest(oldMoved))
        // A function name that merely starts with 0x is a symbol.
        #expect(StackFrame(address: 1, function: "0xDEADBEEF.handler()").isSymbolized)
        #expect(!StackFrame(address: 1, function: "0xDEADBEEF").isSymbolized)
    }
}
