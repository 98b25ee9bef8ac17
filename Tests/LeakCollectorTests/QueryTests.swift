import Foundation
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// Queries over the protocol (role CLIENT) against a store seeded with 12 hours of a host
/// whose one site leaks while the total heap of another host stays flat.
@Suite struct QueryTests {
    static let leakFrames = [StackFrame(address: 0x10, function: "Cache.insert(_:)", file: "Cache.swift", line: 42, image: "app")]
    static let steadyFrames = [StackFrame(address: 0x20, function: "Buffer.init()", file: "Buffer.swift", line: 7, image: "app")]

    /// 12 h at 10 s: "leaky" grows 2 MB/h at one site (on a 100 MB heap); "steady" is flat noise.
    static func seed(_ store: any FleetStore) throws -> Int64 {
        let leak = StackDefinition(frames: leakFrames, typeName: "MyApp.CacheEntry")
        let steady = StackDefinition(frames: steadyFrames)
        let startMs: Int64 = 1_750_000_000_000
        var batch: [SnapshotIngest] = []
        for index in 0..<(12 * 360) {
            let timestampMs = startMs + Int64(index) * 10_000
            let hours = Double(index) / 360
            let leaked = Int64(2_000_000 * hours)
            let noise = Int64((index * 7919) % 500_000)
            for host in ["leaky", "steady"] {
                let growing = host == "leaky" ? leaked : 0
                batch.append(SnapshotIngest(
                    process: ProcessIdentity(hostName: host, instanceKey: "0102", serviceName: "api", startedAtMs: startMs),
                    sequence: Int64(index + 1), timestampMs: timestampMs,
                    stats: SnapshotStats(
                        bytesAllocatedTotal: Int64(index) * 1_000_000, bytesInUse: 100_000_000 + growing + noise,
                        allocationCount: Int64(index) * 1000, freeCount: Int64(index) * 990, residentBytes: 150_000_000 + growing,
                        uptimeSeconds: Double(index) * 10),
                    newStacks: index == 0 ? [leak, steady] : [],
                    sites: [
                        SiteSample(stackDigest: leak.digest, liveBytesEstimate: 1_000_000 + growing, liveObjectsEstimate: 10 + growing / 1000, allocatedBytesTotal: 0),
                        SiteSample(stackDigest: steady.digest, liveBytesEstimate: 5_000_000 + noise, liveObjectsEstimate: 50, allocatedBytesTotal: 0),
                    ],
                    pattern: AllocationPattern(sizeClasses: [.init(upperBoundBytes: 64, allocationCount: 9, bytes: 300)], topSizes: [.init(sizeBytes: 48, allocationCount: 7)]),
                    events: index == 100 ? [SnapshotEvent(timestampMs: timestampMs, kind: "thresholdWarning", severity: "warning", message: "over 100 MB", value: 100_000_001)] : []))
            }
        }
        _ = try store.ingest(batch)
        return startMs + Int64(12 * 360 - 1) * 10_000
    }

    @Test func clientQueriesAnswerFromTheStoreWithVerdicts() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await TestCollector.start(dataDirectory: directory.path).use { running in
            let lastMs = try Self.seed(running.collector.store)
            #expect(try running.collector.maintenance.evaluateVerdicts() == 2)
            let port = running.port

            let client = try await blocking { try TestAgent(port: port, hostName: "operator-laptop", role: .client) }
            #expect(client.welcome.accepted)

            // Fleet overview.
            let fleet = try await blocking { try client.query(.fleetOverviewRequest(.with { $0.requestID = 1 })) }
            guard case .fleetOverviewResponse(let overview) = fleet else { Issue.record("got \(fleet)"); return }
            #expect(overview.requestID == 1)
            let byHost = Dictionary(uniqueKeysWithValues: overview.hosts.map { ($0.host, $0) })
            #expect(byHost["leaky"]?.status == .suspectedLeak)
            #expect(byHost["steady"]?.status == .ok)
            #expect(byHost["leaky"]?.lastSeenUnixNanos == lastMs * 1_000_000)
            #expect(byHost["leaky"]?.serviceName == "api")
            #expect(byHost["leaky"]?.stale == true)  // seeded in the past

            // Host report.
            let reply = try await blocking { try client.query(.hostReportRequest(.with { $0.requestID = 2; $0.host = "leaky" })) }
            guard case .hostReportResponse(let report) = reply else { Issue.record("got \(reply)"); return }
            #expect(report.hostFound)
            #expect(report.verdict.status == .suspectedLeak)
            let rate = report.verdict.rateBytesPerHour
            #expect(rate > 1_500_000 && rate < 2_500_000, "rate \(rate)")
            #expect(report.latestStats.currentBytes > 100_000_000)
            #expect(report.series.count > 100 && report.series.count <= 720)
            #expect(report.series.first?.processInstanceID == Data([1, 2]))
            #expect(report.topSizes.first?.size == 48)
            #expect(report.sizeClasses.first?.upperBoundBytes == 64)
            #expect(report.recentEvents.first?.kind == .thresholdWarning)
            let leakSite = try #require(report.sites.first)
            #expect(leakSite.status == .suspectedLeak)
            #expect(leakSite.frames.first?.function == "Cache.insert(_:)")
            #expect(leakSite.typeName == "MyApp.CacheEntry")
            #expect(report.verdict.responsibleStackIds == [leakSite.stackID])
            #expect(report.sites.count == 2)

            // Sites, series (host and site), stacks.
            let sitesReply = try await blocking { try client.query(.sitesRequest(.with { $0.requestID = 3; $0.host = "leaky"; $0.limit = 1 })) }
            guard case .sitesResponse(let sites) = sitesReply else { Issue.record("got \(sitesReply)"); return }
            #expect(sites.sites.map(\.stackID) == [leakSite.stackID])

            let fromNanos = (lastMs - 3_600_000) * 1_000_000
            let seriesReply = try await blocking {
                try client.query(.seriesRequest(.with { $0.requestID = 4; $0.host = "leaky"; $0.fromUnixNanos = fromNanos; $0.toUnixNanos = lastMs * 1_000_000 }))
            }
            guard case .seriesResponse(let hostSeries) = seriesReply else { Issue.record("got \(seriesReply)"); return }
            #expect(hostSeries.points.count == 361)
            #expect(!hostSeries.hasStackID)

            let siteSeriesReply = try await blocking {
                try client.query(.seriesRequest(.with { $0.requestID = 5; $0.host = "leaky"; $0.stackID = leakSite.stackID; $0.fromUnixNanos = fromNanos; $0.toUnixNanos = lastMs * 1_000_000 }))
            }
            guard case .seriesResponse(let siteSeries) = siteSeriesReply else { Issue.record("got \(siteSeriesReply)"); return }
            #expect(siteSeries.points.count == 361)
            #expect(siteSeries.points.last!.currentBytes > siteSeries.points.first!.currentBytes)

            let stacksReply = try await blocking { try client.query(.stacksRequest(.with { $0.requestID = 6; $0.host = "leaky"; $0.ids = [leakSite.stackID] })) }
            guard case .stacksResponse(let stacks) = stacksReply else { Issue.record("got \(stacksReply)"); return }
            #expect(stacks.stacks.first?.frames.first?.file == "Cache.swift")

            // Site diff: the leaking site grew over the last hour; a diff needs a base before its end.
            let toNanos = lastMs * 1_000_000
            let diffReply = try await blocking {
                try client.query(.siteDiffRequest(.with { $0.requestID = 10; $0.host = "leaky"; $0.fromUnixNanos = fromNanos }))
            }
            guard case .siteDiffResponse(let diff) = diffReply else { Issue.record("got \(diffReply)"); return }
            #expect(diff.requestID == 10)
            #expect(diff.fromSnapshotUnixNanos == fromNanos && diff.toSnapshotUnixNanos == toNanos)
            let grown = try #require(diff.changes.first)
            #expect(grown.stackID == leakSite.stackID)
            #expect(grown.toLiveBytes > grown.fromLiveBytes)
            #expect(grown.frames.first?.function == "Cache.insert(_:)")
            for (id, from, to) in [(11 as UInt64, 0 as Int64, 0 as Int64), (12, toNanos, fromNanos)] {
                let refused = try await blocking {
                    try client.query(.siteDiffRequest(.with { $0.requestID = id; $0.host = "leaky"; $0.fromUnixNanos = from; $0.toUnixNanos = to }))
                }
                guard case .error(let error) = refused else { Issue.record("got \(refused)"); return }
                #expect(error.code == .badRequest && error.requestID == id)
            }

            // Unknown host: the report says so and suggests names; other queries answer an Error with
            // the request id, and the connection stays usable.
            let unknownReport = try await blocking { try client.query(.hostReportRequest(.with { $0.requestID = 7; $0.host = "leakyy" })) }
            guard case .hostReportResponse(let missing) = unknownReport else { Issue.record("got \(unknownReport)"); return }
            #expect(!missing.hostFound)
            #expect(missing.knownHosts.first == "leaky")
            let unknownSeries = try await blocking { try client.query(.seriesRequest(.with { $0.requestID = 8; $0.host = "nope" })) }
            guard case .error(let error) = unknownSeries else { Issue.record("got \(unknownSeries)"); return }
            #expect(error.code == .unknownHost)
            #expect(error.requestID == 8)
            let again = try await blocking { try client.query(.fleetOverviewRequest(.with { $0.requestID = 9 })) }
            guard case .fleetOverviewResponse = again else { Issue.record("got \(again)"); return }

            // A client may not send snapshots.
            let violation = try await blocking { try client.query(.snapshot(makeSnapshot(sequence: 1))) }
            guard case .error(let refused) = violation else { Issue.record("got \(violation)"); return }
            #expect(refused.code == .protocolViolation)
        }
    }
}
