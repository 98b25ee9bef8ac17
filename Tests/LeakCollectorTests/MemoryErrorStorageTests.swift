import Foundation
@testable import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Logging
import Testing

/// Memory errors in the store (migration v6-memory-errors): ranked by allocation site and kind
/// across hosts, kept as long as the longest-kept leak data, and their stacks with them.
@Suite struct MemoryErrorStorageTests {
    let logger = Logger(label: "test")
    static let hourMs: Int64 = 3_600_000

    static func stack(_ name: String) -> StackDefinition {
        StackDefinition(frames: [StackFrame(address: 0x1000, function: name, file: "parser.c", line: 7, image: "app")])
    }

    /// One snapshot of `host` at `timestampMs` carrying one error of `kind` allocated at `allocatedAt`.
    static func snapshot(host: String, sequence: Int64, timestampMs: Int64, kind: String, allocatedAt: String) -> SnapshotIngest {
        let allocation = stack(allocatedAt), access = stack("write_past_end")
        return SnapshotIngest(
            process: ProcessIdentity(hostName: host, instanceKey: host + "-1", serviceName: "api"),
            sequence: sequence, timestampMs: timestampMs, stats: SnapshotStats(bytesInUse: 1000),
            newStacks: [allocation, access],
            memoryErrors: [MemoryErrorSample(
                timestampMs: timestampMs, kind: kind, access: "write", faultAddress: 0xffff_8000_0000_1000, blockOffset: 32,
                blockSizeBytes: 32, threadID: 42, recovered: true, accessStack: access.digest, allocationStack: allocation.digest)])
    }

    @Test func errorsAreRankedByAllocationSiteAndKindAcrossHosts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", configuration: StoreConfiguration(), logger: logger)
        let hourMs = Self.hourMs
        _ = try store.ingest([
            Self.snapshot(host: "web-1", sequence: 1, timestampMs: hourMs, kind: "heapBufferOverflow", allocatedAt: "parse_header"),
            Self.snapshot(host: "web-2", sequence: 1, timestampMs: 2 * hourMs, kind: "heapBufferOverflow", allocatedAt: "parse_header"),
            Self.snapshot(host: "web-2", sequence: 2, timestampMs: 3 * hourMs, kind: "heapBufferOverflow", allocatedAt: "parse_header"),
            Self.snapshot(host: "web-1", sequence: 2, timestampMs: 4 * hourMs, kind: "heapUseAfterFree", allocatedAt: "parse_header"),
        ])
        let rows = try store.memoryErrorSites(serviceName: "", fromMs: 0, limit: 10)
        #expect(rows.map(\.kind) == ["heapBufferOverflow", "heapUseAfterFree"])
        #expect(rows.first?.hostCount == 2 && rows.first?.occurrences == 3)
        #expect(rows.first?.hostNames == ["web-2", "web-1"], "most recently affected first")
        #expect(rows.first?.firstSeenMs == hourMs && rows.first?.lastSeenMs == 3 * hourMs)
        #expect(rows.first?.newest.faultAddress == Int64(bitPattern: 0xffff_8000_0000_1000), "an address keeps its 64 bits")
        #expect(try store.memoryErrorSites(serviceName: "", fromMs: 3 * hourMs, limit: 10).map(\.occurrences) == [1, 1])
        #expect(try store.memoryErrorSites(serviceName: "checkout", fromMs: 0, limit: 10).isEmpty)
        #expect(try store.memoryErrors(hostId: try #require(try store.host(named: "web-1")).id, fromMs: 0, limit: 10)
            .map(\.kind) == ["heapUseAfterFree", "heapBufferOverflow"])
    }

    @Test func errorsAndTheirStacksLastAsLongAsTheHourTier() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = StoreConfiguration(rawRetentionSeconds: 3600, minuteRetentionSeconds: 4 * 3600, hourRetentionSeconds: 24 * 3600)
        let store = try SQLiteStore(path: directory.path + "/db.sqlite", configuration: configuration, logger: logger)
        let hourMs = Self.hourMs
        _ = try store.ingest([Self.snapshot(host: "web-1", sequence: 1, timestampMs: hourMs, kind: "doubleFree", allocatedAt: "parse_header")])
        // Past the raw and minute tiers: the error and its stacks stay.
        let early = try store.applyRetention(nowMs: 10 * hourMs)
        #expect(early.memoryErrorsDeleted == 0)
        #expect(try store.memoryErrorSites(serviceName: "", fromMs: 0, limit: 10).count == 1)
        let stacks = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack") }
        #expect(stacks == 2, "the error's stacks are kept with it")
        // Past the hour tier: gone with the leak data, and its stacks after it.
        let late = try store.applyRetention(nowMs: 30 * hourMs)
        #expect(late.memoryErrorsDeleted == 1)
        #expect(try store.memoryErrorSites(serviceName: "", fromMs: 0, limit: 10).isEmpty)
        #expect(try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stack") } == 0)
    }
}
