import Foundation
@testable import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Logging
import Testing

/// The store's contract, run against every backend (SQLite and a throwaway PostgreSQL): what one
/// passes the other must, so the two cannot drift. Only `FleetStore`'s API is used here; what is
/// particular to one backend (SQLite's WAL, PostgreSQL's partitions) is tested beside it.
@Suite struct FleetStoreTests {
    static let hourMs: Int64 = 3_600_000

    static func snapshot(host: String = "web-1", instance: String = "aa", sequence: Int64, timestampMs: Int64,
                         bytesInUse: Int64 = 1000, sites: [(frames: String, live: Int64)] = [], defineStacks: Bool = true) -> SnapshotIngest {
        let definitions = sites.map { StackDefinition(frames: [StackFrame(address: 1, function: $0.frames)]) }
        return SnapshotIngest(
            process: ProcessIdentity(hostName: host, instanceKey: instance, serviceName: "api"),
            sequence: sequence, timestampMs: timestampMs,
            stats: SnapshotStats(bytesAllocatedTotal: sequence * 100, bytesInUse: bytesInUse, allocationCount: sequence * 10,
                                 freeCount: sequence * 5, residentBytes: bytesInUse * 2),
            newStacks: defineStacks ? definitions : [],
            sites: zip(definitions, sites).map {
                SiteSample(stackDigest: $0.0.digest, liveBytesEstimate: $0.1.live, liveObjectsEstimate: 1, allocatedBytesTotal: $0.1.live)
            })
    }

    @Test(arguments: StoreBackend.allCases)
    func duplicateSnapshotIsIgnoredButReportedAndWelcomeResumesFromTheStore(_ backend: StoreBackend) async throws {
        try await backend.open().use { store in
            let first = Self.snapshot(sequence: 1, timestampMs: 1_000, bytesInUse: 5, sites: [("f", 10)])
            #expect(try store.ingest([first]) == [.stored])
            var again = first
            again.stats.bytesInUse = 999  // a duplicate never overwrites
            #expect(try store.ingest([again, Self.snapshot(sequence: 2, timestampMs: 2_000)]) == [.duplicate, .stored])
            let host = try #require(try store.host(named: "web-1"))
            let window = try store.window(host: host, fromMs: 0, toMs: 10_000)
            #expect(window.points.map(\.bytesInUse) == [5, 1000])
            let resume = try store.resumePoint(hostName: "web-1", instanceKey: "aa")
            #expect(resume.sequence == 2)
            #expect(resume.counters?.sequence == 2 && resume.counters?.totalAllocatedBytes == 200 && resume.counters?.allocationCount == 20)
            #expect(try store.lastCommittedSequence(hostName: "web-1", instanceKey: "zz") == 0)
            #expect(try store.resumePoint(hostName: "nobody", instanceKey: "aa").counters == nil)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func restartIsANewInstanceAndStacksAreInternedOnce(_ backend: StoreBackend) async throws {
        try await backend.open().use { store in
            _ = try store.ingest([Self.snapshot(instance: "aa", sequence: 1, timestampMs: 1_000, sites: [("f", 10), ("g", 20)])])
            _ = try store.ingest([Self.snapshot(instance: "bb", sequence: 1, timestampMs: 2_000, sites: [("f", 30)])])
            let host = try #require(try store.host(named: "web-1"))
            #expect(host.lastSeenMs == 2_000 && host.firstSeenMs == 1_000)
            let window = try store.window(host: host, fromMs: 0, toMs: 10_000)
            #expect(window.points.map(\.bytesInUse) == [1000, 1000])
            #expect(Set(window.points.map(\.instanceId)).count == 2)
            #expect(Set(window.instanceKeys.values) == ["aa", "bb"])
            #expect(window.sites.values.map(\.count).sorted() == [1, 2])
            let stacks = try store.stacks(ids: Array(window.sites.keys))
            #expect(stacks.map { $0.decodedFrames().map(\.function) }.sorted { $0[0] < $1[0] } == [["f"], ["g"]])
            #expect(try store.stacks(ids: []).isEmpty)
            // A site naming a stack never defined is refused with the batch.
            let orphan = Self.snapshot(instance: "aa", sequence: 2, timestampMs: 3_000, sites: [("never-sent", 1)], defineStacks: false)
            #expect(throws: StoreError.unknownStack) { try store.ingest([orphan]) }
            #expect(try store.ingest([Self.snapshot(instance: "aa", sequence: 3, timestampMs: 3_000)]) == [.stored], "the store goes on")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func latestSamplesVerdictsAndGaugesReadTheNewestOfEachHost(_ backend: StoreBackend) async throws {
        try await backend.open().use { store in
            _ = try store.ingest([
                Self.snapshot(host: "a", sequence: 1, timestampMs: 1_000, bytesInUse: 10, sites: [("f", 10)]),
                Self.snapshot(host: "a", sequence: 2, timestampMs: 2_000, bytesInUse: 20, sites: [("f", 20)]),
                Self.snapshot(host: "b", sequence: 1, timestampMs: 1_500, bytesInUse: 30),
            ])
            let hosts = try store.hosts()
            #expect(hosts.map(\.name) == ["a", "b"])
            let a = hosts[0], b = hosts[1]
            #expect(try store.latestSample(hostId: a.id)?.bytesInUse == 20)
            #expect(try store.latestSample(hostId: a.id)?.sites.isEmpty == false, "the newest sample carries its sites")
            #expect(try store.latestSamples().mapValues(\.bytesInUse) == [a.id: 20, b.id: 30])
            #expect(try store.latestVerdict(hostId: a.id) == nil)
            #expect(try store.latestJudgedVerdict(hostId: a.id) == nil)
            let stackID = try #require(try store.window(host: a, fromMs: 0, toMs: 10_000).sites.keys.first)
            func verdict(_ host: HostRecord, at ms: Int64, _ status: String, rate: Double = 0) -> VerdictRecord {
                VerdictRecord(id: nil, hostId: host.id, evaluatedAtMs: ms, status: status, rateBytesPerHour: rate, sinceMs: ms == 2_000 ? 500 : nil,
                              confidence: 0.5, summary: "s", sites: #"[{"liveBytes":20,"rateBytesPerHour":1,"stackId":\#(stackID),"status":"growing"}]"#)
            }
            try store.storeVerdict(verdict(a, at: 1_000, "growing", rate: 100))
            try store.storeVerdict(verdict(a, at: 2_000, VerdictRecord.notEnoughData))
            try store.storeVerdict(verdict(b, at: 1_500, "ok"))
            let newestA = try #require(try store.latestVerdict(hostId: a.id))
            #expect(newestA.status == VerdictRecord.notEnoughData && newestA.sinceMs == 500 && newestA.decodedSites.first?.stackId == stackID)
            #expect(try store.latestJudgedVerdict(hostId: a.id)?.status == "growing", "not enough data judges nothing")
            #expect(try store.latestVerdicts().mapValues(\.status) == [a.id: VerdictRecord.notEnoughData, b.id: "ok"])
            let gauges = try store.hostGaugeRows()
            #expect(gauges.map(\.name) == ["a", "b"])
            #expect(gauges.map(\.status) == [VerdictRecord.notEnoughData, "ok"])
            #expect(gauges.map(\.heapBytes) == [20, 30])
            #expect(gauges.map(\.lastSeenMs) == [2_000, 1_500])
            #expect(try store.storageBytes() > 0)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func retentionRollsRawIntoMinutesThenHoursAndKeepsFloors(_ backend: StoreBackend) async throws {
        // 1 h raw, 4 h of minutes, 1 day of hours.
        let configuration = StoreConfiguration(rawRetentionSeconds: 3600, minuteRetentionSeconds: 4 * 3600, hourRetentionSeconds: 24 * 3600)
        try await backend.open(configuration).use { store in
            // 10 h of 10-second snapshots, with a sawtooth: floor 1000 + 100 per hour.
            let hourMs = Self.hourMs
            var batch: [SnapshotIngest] = []
            for index in 0..<(10 * 360) {
                let timestamp = Int64(index) * 10_000
                let floor = 1000 + 100 * (timestamp / hourMs)
                let bytes = floor + (index % 6 == 0 ? 0 : 50)
                batch.append(Self.snapshot(sequence: Int64(index + 1), timestampMs: timestamp, bytesInUse: bytes, sites: [("f", bytes / 10)]))
            }
            _ = try store.ingest(batch)
            let nowMs = 10 * hourMs
            let report = try store.applyRetention(nowMs: nowMs, chunkSize: 500)
            #expect(report.rawSamplesRolledUp == 9 * 360)  // everything older than 1 h
            #expect(report.minuteBucketsRolledUp == 6 * 60)  // minutes older than 4 h
            // The window reads every tier in time order: hours before 6 h, minutes 6 h..9 h, raw after.
            let host = try #require(try store.host(named: "web-1"))
            let window = try store.window(host: host, fromMs: 0, toMs: nowMs)
            #expect(window.points.count == 6 + 180 + 360)
            #expect(window.points.map(\.pointCount) == Array(repeating: 360, count: 6) + Array(repeating: 6, count: 180) + Array(repeating: 1, count: 360))
            #expect(window.points.map(\.timestampMs) == window.points.map(\.timestampMs).sorted())
            #expect(window.points.first?.bytesInUse == 1000, "an hour bucket's floor")
            #expect(window.points.first?.bytesInUseMax == 1050)
            #expect(window.sites.first?.value.count == window.points.count)
            // Per-site values from a bounded, evenly spaced subset that ends at the newest point.
            let sparse = try store.window(host: host, fromMs: 0, toMs: nowMs, maximumSiteRows: 10)
            let sparseSite = try #require(sparse.sites.first?.value)
            #expect(sparseSite.count <= 10 && sparseSite.count >= 9)
            #expect(sparseSite.last?.timestampMs == window.points.last?.timestampMs)
            #expect(try store.window(host: host, fromMs: 0, toMs: nowMs, includeSites: false).sites.isEmpty)
            // The site snapshot of a rolled-up moment reads the bucket's floor.
            let old = try #require(try store.siteSnapshot(hostId: host.id, atMs: 30 * 60_000))
            #expect(old.timestampMs == 0 && old.sites.values.first?.liveBytes == 100)
            let newest = try #require(try store.siteSnapshot(hostId: host.id, atMs: nowMs))
            #expect(newest.timestampMs == nowMs - 10_000)
            // A second pass is a no-op; later, hour buckets past a day are deleted.
            #expect(try store.applyRetention(nowMs: nowMs) == RetentionReport())
            let later = try store.applyRetention(nowMs: nowMs + 30 * hourMs)
            #expect(later.hourBucketsDeleted > 0)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func retentionForgetsInstancesAndHostsWhoseDataHasExpired(_ backend: StoreBackend) async throws {
        let configuration = StoreConfiguration(rawRetentionSeconds: 3600, minuteRetentionSeconds: 2 * 3600, hourRetentionSeconds: 4 * 3600)
        try await backend.open(configuration).use { store in
            let hourMs = Self.hourMs
            func hour(host: String, instance: String, from startMs: Int64) -> [SnapshotIngest] {
                (0..<360).map { Self.snapshot(host: host, instance: instance, sequence: Int64($0 + 1), timestampMs: startMs + Int64($0) * 10_000) }
            }
            _ = try store.ingest(hour(host: "gone", instance: "old", from: 0))
            _ = try store.ingest(hour(host: "web-1", instance: "aa", from: 0))
            _ = try store.ingest(hour(host: "web-1", instance: "bb", from: 10 * hourMs))
            #expect(try store.hosts().map(\.name) == ["gone", "web-1"])
            #expect(try store.applyRetention(nowMs: 5 * hourMs).instancesDeleted == 0, "hour buckets of the first hour are still kept")
            let report = try store.applyRetention(nowMs: 11 * hourMs)
            #expect(report.instancesDeleted == 2)
            #expect(report.hostsDeleted == 1)
            #expect(try store.hosts().map(\.name) == ["web-1"])
            #expect(try store.lastCommittedSequence(hostName: "web-1", instanceKey: "bb") == 360, "the live instance is untouched")
            #expect(try store.lastCommittedSequence(hostName: "web-1", instanceKey: "aa") == 0, "the departed one is gone")
            #expect(try store.applyRetention(nowMs: 11 * hourMs) == RetentionReport(), "a second pass finds nothing")
            // The departed host reports again: it gets new rows, not the deleted ones' cached ids.
            #expect(try store.ingest([Self.snapshot(host: "gone", instance: "old", sequence: 361, timestampMs: 11 * hourMs)]) == [.stored])
            #expect(try store.hosts().map(\.name) == ["gone", "web-1"])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func lateSnapshotsMergeIntoExistingBuckets(_ backend: StoreBackend) async throws {
        try await backend.open(StoreConfiguration(rawRetentionSeconds: 60)).use { store in
            _ = try store.ingest([Self.snapshot(sequence: 1, timestampMs: 0, bytesInUse: 500)])
            try store.applyRetention(nowMs: 3 * Self.hourMs)
            // A spooled snapshot arrives late for the same minute.
            _ = try store.ingest([Self.snapshot(sequence: 2, timestampMs: 30_000, bytesInUse: 300)])
            try store.applyRetention(nowMs: 3 * Self.hourMs)
            let host = try #require(try store.host(named: "web-1"))
            let points = try store.window(host: host, fromMs: 0, toMs: Self.hourMs).points
            #expect(points.count == 1)
            #expect(points.first?.pointCount == 2)
            #expect(points.first?.bytesInUse == 300)
            #expect(points.first?.bytesInUseMax == 500)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func stacksNothingRetainedRefersToAreCollectedUnlessPinned(_ backend: StoreBackend) async throws {
        let configuration = StoreConfiguration(rawRetentionSeconds: 3600, minuteRetentionSeconds: 2 * 3600, hourRetentionSeconds: 4 * 3600)
        try await backend.open(configuration).use { store in
            let hourMs = Self.hourMs
            _ = try store.ingest([
                Self.snapshot(instance: "aa", sequence: 1, timestampMs: 0, sites: [("old", 10), ("pinned", 5)]),
                Self.snapshot(instance: "bb", sequence: 1, timestampMs: 20 * hourMs, sites: [("new", 10)]),
            ])
            let lease = store.stackPins.lease()
            lease.pin([StackDefinition(frames: [StackFrame(address: 1, function: "pinned")]).digest])
            // Everything of the first instance has expired by 20 h; its stacks with it, but the pinned one.
            let report = try store.applyRetention(nowMs: 20 * hourMs)
            #expect(report.stacksDeleted == 1)
            let host = try #require(try store.host(named: "web-1"))
            let live = try store.window(host: host, fromMs: 0, toMs: 21 * hourMs)
            #expect(try store.stacks(ids: Array(live.sites.keys)).flatMap { $0.decodedFrames().map(\.function) } == ["new"])
            // The deleted stack comes back when an agent defines it again.
            #expect(try store.ingest([Self.snapshot(instance: "bb", sequence: 2, timestampMs: 20 * hourMs + 10_000, sites: [("old", 1)])]) == [.stored])
            withExtendedLifetime(lease) {}
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func memoryErrorsAreRankedByAllocationSiteAndKindAcrossHosts(_ backend: StoreBackend) async throws {
        try await backend.open().use { store in
            let hourMs = Self.hourMs
            func error(host: String, sequence: Int64, at timestampMs: Int64, kind: String) -> SnapshotIngest {
                let allocation = StackDefinition(frames: [StackFrame(address: 0x1000, function: "parse_header", file: "parser.c", line: 7, image: "app")])
                let access = StackDefinition(frames: [StackFrame(address: 0x1000, function: "write_past_end", file: "parser.c", line: 7, image: "app")])
                return SnapshotIngest(
                    process: ProcessIdentity(hostName: host, instanceKey: host + "-1", serviceName: "api"),
                    sequence: sequence, timestampMs: timestampMs, stats: SnapshotStats(bytesInUse: 1000), newStacks: [allocation, access],
                    memoryErrors: [MemoryErrorSample(
                        timestampMs: timestampMs, kind: kind, access: "write", faultAddress: 0xffff_8000_0000_1000, blockOffset: 32,
                        blockSizeBytes: 32, threadID: 42, recovered: true, accessStack: access.digest, allocationStack: allocation.digest)])
            }
            _ = try store.ingest([
                error(host: "web-1", sequence: 1, at: hourMs, kind: "heapBufferOverflow"),
                error(host: "web-2", sequence: 1, at: 2 * hourMs, kind: "heapBufferOverflow"),
                error(host: "web-2", sequence: 2, at: 3 * hourMs, kind: "heapBufferOverflow"),
                error(host: "web-1", sequence: 2, at: 4 * hourMs, kind: "heapUseAfterFree"),
            ])
            let rows = try store.memoryErrorSites(serviceName: "", fromMs: 0, limit: 10)
            #expect(rows.map(\.kind) == ["heapBufferOverflow", "heapUseAfterFree"])
            #expect(rows.first?.hostCount == 2 && rows.first?.occurrences == 3)
            #expect(rows.first?.hostNames == ["web-2", "web-1"], "most recently affected first")
            #expect(rows.first?.firstSeenMs == hourMs && rows.first?.lastSeenMs == 3 * hourMs)
            #expect(rows.first?.newest.faultAddress == Int64(bitPattern: 0xffff_8000_0000_1000), "an address keeps its 64 bits")
            #expect(rows.first?.newest.recovered == true && rows.first?.newest.threadId == 42)
            #expect(try store.memoryErrorSites(serviceName: "api", fromMs: 3 * hourMs, limit: 10).map(\.occurrences) == [1, 1])
            #expect(try store.memoryErrorSites(serviceName: "checkout", fromMs: 0, limit: 10).isEmpty)
            let web1 = try #require(try store.host(named: "web-1"))
            #expect(try store.memoryErrors(hostId: web1.id, fromMs: 0, limit: 10).map(\.kind) == ["heapUseAfterFree", "heapBufferOverflow"])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func eventsAreReadNewestFirst(_ backend: StoreBackend) async throws {
        try await backend.open().use { store in
            var snapshot = Self.snapshot(sequence: 1, timestampMs: 5_000)
            snapshot.events = [
                SnapshotEvent(timestampMs: 4_000, kind: "threshold", severity: "warning", message: "heap above 1 MiB", value: 2, thresholdBytes: 1 << 20),
                SnapshotEvent(timestampMs: 5_000, kind: "agentError", severity: "error", message: "spool full"),
            ]
            _ = try store.ingest([snapshot])
            let host = try #require(try store.host(named: "web-1"))
            let events = try store.recentEvents(hostId: host.id, limit: 10)
            #expect(events.map(\.kind) == ["agentError", "threshold"])
            #expect(events.last?.thresholdBytes == 1 << 20)
            #expect(try store.recentEvents(hostId: host.id, limit: 1).count == 1)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func batchWriterGroupsConcurrentSubmissionsAndRefusesAfterClose(_ backend: StoreBackend) async throws {
        try await backend.open().use { store in
            let writer = BatchWriter(store: store, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        try await writer.submit(Self.snapshot(host: "h\(index % 10)", sequence: Int64(index + 1), timestampMs: Int64(index)))
                    }
                }
                for try await outcome in group { #expect(outcome == .stored) }
            }
            #expect(writer.counters.snapshots == 300)
            #expect(writer.counters.transactions < 300)
            await writer.close()
            await #expect(throws: StoreError.closed) {
                try await writer.submit(Self.snapshot(sequence: 9999, timestampMs: 0))
            }
        }
    }
}
