import Foundation
import LeakCollector
import Logging

/// Verdict passes over a fleet, by the collector's own `MaintenanceService` on a real store: the
/// first pass reads every host's window from SQLite; each later one, after a minute of new
/// snapshots per host, reads only those and judges the buckets it kept.
func runFleetVerdicts() async throws {
    let hosts = options.fleetHosts
    let resolutionSeconds = 10
    let pointsPerHost = Int(options.fleetHours * 3600) / resolutionSeconds
    let sitesPerHost = options.fleetSites
    let directory = workDirectory + "/fleet"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    print("fleet verdicts: \(hosts) hosts x \(options.fleetHours) h at \(resolutionSeconds) s, \(sitesPerHost) sites each (40 MB / k^1.5); "
        + "one host in ten leaks, one in ten follows a daily cycle")

    var configuration = CollectorConfiguration()
    configuration.listenHost = "127.0.0.1"
    configuration.listenPort = 0
    configuration.dataDirectory = directory
    configuration.token = token
    configuration.verdictIntervalSeconds = 0  // the passes are run here, one at a time
    configuration.retentionIntervalSeconds = 0
    configuration.staleAfterSeconds = 1e12
    var logger = Logger(label: "bench.fleet")
    logger.logLevel = .warning
    let collector = try buildCollector(configuration, logger: logger, handleSignals: false)
    let stacks = (0..<sitesPerHost).map { site in
        StackDefinition(frames: (0..<8).map {
            StackFrame(address: UInt64(site * 100 + $0), function: "Fleet.f\(site)_\($0)", file: "F\(site).swift", line: UInt32($0))
        })
    }
    let startMs = Int64(Date().timeIntervalSince1970 * 1000) - Int64(options.fleetHours * 3_600_000)

    /// Snapshots `points` of every host, through the store's ingest (what the server's writer calls).
    func ingest(_ points: Range<Int>) throws {
        var batch: [SnapshotIngest] = []
        batch.reserveCapacity(10_000)
        for point in points {
            for host in 0..<hosts {
                let hours = Double(point * resolutionSeconds) / 3600
                let leak = host % 10 == 0 ? Int64(hours * 40_000_000) : 0  // about 13 %/h of the heap
                let cycle = host % 10 == 1 ? Int64(60_000_000 * sin(2 * Double.pi * hours / 24)) : 0
                let noise = Int64((point &* 7919 &+ host &* 104_729) % 3_000_000)
                batch.append(SnapshotIngest(
                    process: ProcessIdentity(hostName: "fleet-\(host)", instanceKey: String(format: "%032x", host), serviceName: "svc-\(host % 5)"),
                    sequence: Int64(point + 1), timestampMs: startMs + Int64(point * resolutionSeconds * 1000),
                    stats: SnapshotStats(
                        bytesAllocatedTotal: Int64(point) * 1_000_000, bytesInUse: 300_000_000 + leak + cycle + noise,
                        allocationCount: Int64(point) * 10_000 + (host % 10 == 1 ? Int64(Double(point) * 3000 * sin(2 * Double.pi * hours / 24)) : 0),
                        freeCount: Int64(point) * 9_990, residentBytes: 400_000_000 + leak,
                        uptimeSeconds: Double(point * resolutionSeconds)),
                    newStacks: point == 0 ? stacks : [],
                    sites: stacks.enumerated().map { index, stack in
                        SiteSample(
                            stackDigest: stack.digest,
                            // Sizes fall off as on real hosts (40 MB, 14 MB, 7.7 MB, 5 MB, …).
                            liveBytesEstimate: Int64(40_000_000 / pow(Double(index + 1), 1.5))
                                + (index == 0 ? leak : Int64(point % 50) * 100),
                            liveObjectsEstimate: 100, allocatedBytesTotal: Int64(point) * 1000)
                    }))
                if batch.count == 10_000 {
                    _ = try collector.store.ingest(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        if !batch.isEmpty { _ = try collector.store.ingest(batch) }
    }

    let seedStarted = Date()
    try ingest(0..<pointsPerHost)
    print("  seeded \(hosts * pointsPerHost) snapshots in \(format(Date().timeIntervalSince(seedStarted), 0)) s")
    let rssBefore = residentMegabytes()

    func pass(_ label: String) throws {
        let evaluated = try collector.maintenance.evaluateVerdicts()
        guard let pass = collector.maintenance.latestVerdictPass else { return }
        print("  \(label): \(evaluated) hosts in \(format(pass.wallSeconds, 2)) s, "
            + "\(format(pass.cpuMillisecondsPerHost, 2)) ms CPU per host (\(pass.hostsSeeded) read whole from the store)")
    }
    try pass("cold pass")
    var next = pointsPerHost
    for index in 0..<options.fleetPasses {
        try ingest(next..<(next + 6))
        next += 6
        try pass("steady pass \(index + 1) (a minute later)")
    }
    let statuses = try collector.store.latestVerdicts().values.reduce(into: [String: Int]()) { $0[$1.status, default: 0] += 1 }
    print("  statuses: \(statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
    print("  resident memory: \(rssBefore) MiB before the first pass, \(residentMegabytes()) MiB after the last "
        + "(the buckets kept for \(hosts) hosts)")
    try collector.store.close()
}

/// Current resident set of this process, MiB.
func residentMegabytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
}
