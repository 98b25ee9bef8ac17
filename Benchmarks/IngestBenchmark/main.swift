// IngestBenchmark: the collector under load, measured from outside.
//
//   swift build -c release --product collector --product IngestBenchmark
//   .build/release/IngestBenchmark [--agents 50] [--snapshots 1000] [--sites 50] [--window 64]
//                                  [--hosts 1000] [--hours 24] [--resolution 60] [--queries 200]
//                                  [--skip-ingest] [--skip-query] [--metrics-rounds N] [--attack-rounds N]
//                                  [--fleet-hosts N [--fleet-hours H] [--fleet-passes N] [--fleet-sites N]]
//
// Ingest: the release `collector` runs as a child process (so its CPU and memory are its own,
// read with getrusage(RUSAGE_CHILDREN) after it exits); `--agents` threads in this process
// connect over loopback TCP, do the real handshake (HMAC), and stream pre-encoded snapshot
// frames (`--sites` sites each, deflated) with up to `--window` unacknowledged; a snapshot
// counts once its Ack (sent after the commit) is back.
//
// Metrics cost (`--metrics-rounds N`, MetricsCost.swift): the ingest run N times plain and N times
// with `--metrics-listen` and a scraper fetching /metrics every second, alternating which goes first,
// then both side by side (instead of the single ingest run).
//
// Attack latency (`--attack-rounds N`, AttackLatency.swift): a good agent's snapshot → Ack round
// trip, quiet and under issue 15's partial-frame flood and dribblers, alternating (instead of ingest).
//
// Query: a store of `--hosts` hosts x `--hours` hours is seeded directly through the storage
// layer at one snapshot per `--resolution` seconds, then a fresh collector child answers
// HostReport requests for random hosts over a CLIENT connection; latency percentiles printed.
//
// Fleet verdicts (`--fleet-hosts`, FleetVerdicts.swift): a store of that many hosts is seeded at
// one snapshot per 10 s, and the collector's own verdict pass runs over it: once cold (every host
// read from the store), then after each further minute of snapshots per host (the steady state).
import Foundation
import LeakCollector
import LeakWire
import Logging

#if canImport(Glibc)
import Glibc
let rusageSelf = __rusage_who_t(RUSAGE_SELF.rawValue)
let rusageChildren = __rusage_who_t(RUSAGE_CHILDREN.rawValue)
#endif

struct Options {
    var agents = 50
    var snapshotsPerAgent = 1000
    var sites = 50
    var window = 64
    var hosts = 1000
    var hours = 24.0
    var resolutionSeconds = 60
    var queries = 200
    var sitesPerSeededHost = 20
    var skipIngest = false
    var skipQuery = false
    var fleetHosts = 0
    var fleetHours = 6.0
    var fleetPasses = 5
    var fleetSites = 4
    var metricsRounds = 0
    var attackRounds = 0

    static let usage = """
        usage: IngestBenchmark [--agents N] [--snapshots N] [--sites N] [--window N]
                               [--hosts N] [--hours H] [--resolution SECONDS] [--queries N]
                               [--seeded-sites N] [--skip-ingest] [--skip-query] [--metrics-rounds N] [--attack-rounds N] [--help]
          --agents N          concurrent agent connections (default 50)
          --snapshots N       snapshots each agent sends (default 1000)
          --sites N           sites per snapshot (default 50)
          --window N          unacknowledged snapshots per agent (default 64)
          --hosts N           hosts seeded for the query benchmark (default 1000)
          --hours H           hours of data per seeded host (default 24)
          --resolution S      seconds between seeded snapshots (default 60)
          --queries N         HostReport queries timed (default 200)
          --seeded-sites N    sites per seeded snapshot (default 20)
          --skip-ingest       run only the query benchmark
          --skip-query        run only the ingest benchmark
          --metrics-rounds N  ingest N times without and N times with --metrics-listen and a scraper
                              every second, alternating order; prints both side by side (off by default)
          --attack-rounds N   a good agent's round trips, N rounds quiet and N under the partial-frame
                              flood and dribblers, alternating order (instead of the ingest run)
          --fleet-hosts N     also time verdict passes over N hosts (off by default)
          --fleet-hours H     hours of 10 s snapshots per fleet host before the first pass (default 6)
          --fleet-passes N    steady passes timed, a minute of snapshots apart (default 5)
          --fleet-sites N     sites per fleet snapshot (default 4)
        Needs the release collector next to it: swift build -c release --product collector
        """

    /// Throws for a bad command line (and for --help).
    init(arguments: [String]) throws(UsageError) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            func value<T: LosslessStringConvertible>(_: T.Type) throws(UsageError) -> T {
                guard let text = iterator.next() else { throw UsageError("\(flag) needs a value") }
                guard let value = T(text), "\(value)" != "nan" else { throw UsageError("\(flag) needs a number, got \"\(text)\"") }
                return value
            }
            func count() throws(UsageError) -> Int {
                let value = try value(Int.self)
                guard value > 0 else { throw UsageError("\(flag) must be at least 1, got \(value)") }
                return value
            }
            switch flag {
            case "--agents": agents = try count()
            case "--snapshots": snapshotsPerAgent = try count()
            case "--sites": sites = try count()
            case "--window": window = try count()
            case "--hosts": hosts = try count()
            case "--hours": hours = try value(Double.self)
            case "--resolution": resolutionSeconds = try count()
            case "--queries": queries = try count()
            case "--seeded-sites": sitesPerSeededHost = try count()
            case "--skip-ingest": skipIngest = true
            case "--skip-query": skipQuery = true
            case "--fleet-hosts": fleetHosts = try count()
            case "--fleet-hours": fleetHours = try value(Double.self)
            case "--fleet-passes": fleetPasses = try count()
            case "--fleet-sites": fleetSites = try count()
            case "--metrics-rounds": metricsRounds = try count()
            case "--attack-rounds": attackRounds = try count()
            case "--help", "-h": throw UsageError(nil)
            default: throw UsageError("unknown option \(flag)")
            }
        }
    }

    struct UsageError: Error {
        /// Nil for --help.
        var message: String?
        init(_ message: String?) { self.message = message }
    }
}

let options: Options
do {
    options = try Options(arguments: CommandLine.arguments)
} catch {
    if let message = error.message {
        FileHandle.standardError.write(Data("IngestBenchmark: \(message)\n\(Options.usage)\n".utf8))
        exit(2)
    }
    print(Options.usage)
    exit(0)
}
let token = Array("benchmark-token-0123456789abcdef".utf8)
let workDirectory = NSTemporaryDirectory() + "leakwatch-bench-\(UUID().uuidString.prefix(8))"
try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
let tokenFile = workDirectory + "/token"
try Data(token).write(to: URL(fileURLWithPath: tokenFile))
defer { try? FileManager.default.removeItem(atPath: workDirectory) }

// MARK: - Child collector

final class CollectorChild {
    let process = Process()
    let logPath: String
    var port = 0

    /// The port of `/metrics`, when the child serves it.
    var metricsPort: Int?

    init(dataDirectory: String, configurationFile: String, metrics: Bool = false) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("collector")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            fatalError("no collector at \(executable.path): swift build -c release --product collector")
        }
        logPath = dataDirectory + ".log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = executable
        process.arguments = ["--listen", "127.0.0.1:0", "--data", dataDirectory, "--token-file", tokenFile, "--config", configurationFile]
            + (metrics ? ["--metrics-listen", "127.0.0.1:0"] : [])
        process.environment = ["LOG_LEVEL": "info"]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            func port(after marker: String) -> Int? {
                guard let line = log.split(separator: "\n").first(where: { $0.contains(marker) }),
                      let range = line.range(of: #":(\d+)[ \]]"#, options: .regularExpression) else { return nil }
                return Int(line[range].dropFirst().dropLast())
            }
            if let listening = port(after: "collector listening") {
                metricsPort = metrics ? port(after: "serving metrics") : nil
                if !metrics || metricsPort != nil {
                    self.port = listening
                    return
                }
            }
            usleep(20_000)
        }
        fatalError("collector did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    /// SIGTERM, wait; returns the child's CPU seconds (user, system) and max RSS in bytes. The RSS
    /// is the child's own peak (VmHWM): getrusage's for children is the largest of every child
    /// reaped so far, which a second run in one benchmark would read as its own.
    func stop() -> (user: Double, system: Double, maxRSSBytes: Int) {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let peakKilobytes = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") }
        var before = rusage()
        getrusage(rusageChildren, &before)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        var after = rusage()
        getrusage(rusageChildren, &after)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds(after.ru_utime) - seconds(before.ru_utime), seconds(after.ru_stime) - seconds(before.ru_stime),
                (peakKilobytes ?? Int(after.ru_maxrss)) * 1024)
    }
}

func writeConfiguration(_ json: String) throws -> String {
    let path = workDirectory + "/config-\(UUID().uuidString.prefix(6)).json"
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

// MARK: - Ingest

func snapshotFrame(agent: Int, sequence: UInt64, sites: Int, encoder: FrameEncoder) -> [UInt8] {
    // Ten seconds apart, the last one now: the collector refuses a timestamp more than
    // maximumFutureSkewSeconds (300 s) ahead of its clock, which starting an hour back passed at
    // sequence 390 (an Error instead of an Ack for most of a 2,000-snapshot run).
    let stepsBeforeLast = Int64(options.snapshotsPerAgent) - Int64(sequence)
    let timestamp = Int64(Date().timeIntervalSince1970 * 1e9) - stepsBeforeLast * 10_000_000_000
    return try! encoder.encode(.snapshot(benchmarkSnapshot(agent: agent, sequence: sequence, sites: sites, timestampUnixNanos: timestamp)))
}

/// An agent's snapshot: counters that grow with `sequence`, `sites` sites, their stacks in the first.
func benchmarkSnapshot(agent: Int, sequence: UInt64, sites: Int, timestampUnixNanos: Int64) -> Leakwatch_V1_Snapshot {
    var snapshot = Leakwatch_V1_Snapshot()
    snapshot.sequence = sequence
    snapshot.timestampUnixNanos = timestampUnixNanos
    let current = 200_000_000 + sequence * 1024 + UInt64(agent) * 7
    snapshot.stats = .with {
        $0.totalAllocatedBytes = current * 40
        $0.currentBytes = current
        $0.peakBytes = current + 4096
        $0.allocationCount = sequence * 100_000
        $0.freeCount = sequence * 99_000
        $0.blocksOutstanding = Int64(sequence * 1000)
        $0.rssBytes = current + 50_000_000
        $0.uptimeSeconds = Double(sequence) * 10
    }
    snapshot.sizeClasses = (0..<16).map { index in .with { $0.upperBoundBytes = 16 << index; $0.count = sequence * UInt64(100 + index); $0.bytes = sequence * UInt64(1600 << index) } }
    snapshot.topSizes = (0..<8).map { index in .with { $0.size = UInt64(16 + 8 * index); $0.count = sequence * UInt64(50 + index) } }
    for site in 0..<sites {
        snapshot.sites.append(.with {
            $0.stackID = UInt64(site + 1)
            $0.liveBytes = UInt64(100_000 + site * 5000) + sequence * UInt64(site % 3) * 512
            $0.liveObjects = UInt64(100 + site) + sequence * UInt64(site % 3)
            $0.allocatedBytes = sequence * UInt64(10_000 + site)
        })
        if sequence == 1 {
            snapshot.stacks.append(.with { stack in
                stack.id = UInt64(site + 1)
                stack.frames = (0..<12).map { depth in .with {
                    $0.function = "App.Module\(site % 7).function\(site)_\(depth)(_:)"
                    $0.file = "Sources/App/File\(site).swift"
                    $0.line = UInt32(10 + depth * 3)
                    $0.image = "app"
                    $0.address = UInt64(0x55_0000_0000 + site * 0x1000 + depth * 0x10)
                } }
            })
        }
    }
    return snapshot
}

/// What one ingest run measured.
struct IngestRun {
    var snapshotsPerSecond: Double
    var collectorCPUSecondsPer100k: Double
    var maxRSSBytes: Int
    var scrapes: ScrapeSummary?
}

/// - Parameter metrics: serve /metrics and scrape it every second while the agents send.
@discardableResult
func runIngest(metrics: Bool = false) throws -> IngestRun {
    let dataDirectory = workDirectory + "/ingest-\(UUID().uuidString.prefix(6))"
    let configuration = try writeConfiguration(#"{"verdictIntervalSeconds": 0, "retentionIntervalSeconds": 0}"#)
    let child = try CollectorChild(dataDirectory: dataDirectory, configurationFile: configuration, metrics: metrics)
    print("ingest: \(options.agents) agents x \(options.snapshotsPerAgent) snapshots, \(options.sites) sites each, window \(options.window)"
        + (metrics ? ", with --metrics-listen and a scrape every second" : ""))

    // Pre-encode every frame (protobuf + deflate) so the agents' CPU stays off the clock.
    let encodeStart = Date()
    // Before the first snapshot (snapshotFrame's timestamps are 10 s apart, ending now), which
    // may not be more than the skew before its process's start.
    let processStartUnixNanos = Int64(encodeStart.timeIntervalSince1970 * 1e9) - Int64(options.snapshotsPerAgent) * 10_000_000_000
    let frames = Locked([[[UInt8]]](repeating: [], count: options.agents))
    DispatchQueue.concurrentPerform(iterations: options.agents) { agent in
        // As the agent shipper does: one zlib stream per connection (CONTEXT), frames in order.
        let encoder = FrameEncoder(compression: .context(minimumBytes: 256))
        let list = (1...options.snapshotsPerAgent).map { snapshotFrame(agent: agent, sequence: UInt64($0), sites: options.sites, encoder: encoder) }
        frames.withLock { $0[agent] = list }
    }
    let allFrames = frames.withLock { $0 }
    let wireBytes = allFrames.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
    print("  encoded \(options.agents * options.snapshotsPerAgent) frames, \(wireBytes / (options.agents * options.snapshotsPerAgent)) bytes each on average, in \(format(Date().timeIntervalSince(encodeStart))) s")

    let connections = try (0..<options.agents).map { agent -> BlockingConnection in
        let connection = try BlockingConnection.connect(host: "127.0.0.1", port: child.port, options: .init(ioTimeoutSeconds: 60))
        var instance = [UInt8](repeating: 0, count: 16)
        instance[0] = UInt8(agent & 0xff)
        instance[1] = UInt8(agent >> 8)
        instance[15] = UInt8.random(in: 0...255)
        let hello = Wire.Hello(supportedVersions: ProtocolVersion.supported, role: .agent, hostName: "bench-host-\(agent)",
                               serviceName: "bench", processInstanceID: instance, pid: UInt32(10_000 + agent),
                               processStartUnixNanos: processStartUnixNanos)
        _ = try connection.handshake(hello: hello, token: token)
        return connection
    }
    nonisolated(unsafe) let sharedConnections = connections
    var selfBefore = rusage()
    getrusage(rusageSelf, &selfBefore)
    let scraper = child.metricsPort.map { MetricsScraper(port: $0) }
    let start = Date()
    let failures = Locked([String]())
    // One thread per agent: each blocks on its socket like a real shipper thread
    // (concurrentPerform would run only one agent per core).
    let finished = DispatchGroup()
    for agent in 0..<options.agents {
        finished.enter()
        Thread.detachNewThread {
            defer { finished.leave() }
            let connection = sharedConnections[agent]
            let list = allFrames[agent]
            var next = 0
            var acked = 0
            do {
                while acked < list.count {
                    var chunk: [UInt8] = []
                    while next < list.count && next - acked < options.window {
                        chunk.append(contentsOf: list[next])
                        next += 1
                    }
                    if !chunk.isEmpty { try connection.send(frameBytes: chunk) }
                    var message: WireMessage? = try connection.receive()
                    while let current = message {
                        guard case .ack(let ack) = current else { throw WireError.unexpectedMessage }
                        acked = max(acked, Int(ack.sequence))
                        message = try connection.receive(timeoutSeconds: 0)
                    }
                }
            } catch {
                failures.withLock { $0.append("agent \(agent): \(error)") }
            }
        }
    }
    finished.wait()
    let elapsed = Date().timeIntervalSince(start)
    let scrapes = scraper?.stop()
    var selfAfter = rusage()
    getrusage(rusageSelf, &selfAfter)
    for connection in connections { connection.close() }
    let usage = child.stop()
    let errors = failures.withLock { $0 }
    if !errors.isEmpty {
        // A run in which agents failed measures something else: never print its figures.
        print("  FAILURES (\(errors.count) agents): \(errors.prefix(5))")
        exit(1)
    }

    let total = Double(options.agents * options.snapshotsPerAgent)
    let collectorCPU = usage.user + usage.system
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    let agentCPU = seconds(selfAfter.ru_utime) + seconds(selfAfter.ru_stime) - seconds(selfBefore.ru_utime) - seconds(selfBefore.ru_stime)
    print("  snapshots acknowledged: \(Int(total)) in \(format(elapsed, 2)) s")
    print("  throughput: \(format(total / elapsed, 0)) snapshots/s, \(format(Double(wireBytes) / elapsed / 1_048_576, 1)) MiB/s on the wire (target >= 20000 snapshots/s)")
    print("  collector CPU: \(format(usage.user, 2)) s user + \(format(usage.system, 2)) s system = \(format(collectorCPU / elapsed * 100, 0)) % of one core over the run (includes start-up and shutdown)")
    print("  collector max RSS: \(usage.maxRSSBytes / 1_048_576) MiB; agents (this process) CPU \(format(agentCPU, 2)) s")
    let store = try SQLiteStore(path: dataDirectory + "/leakwatch.sqlite", logger: Logger(label: "bench"))
    let stored = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0 }
    print("  rows in sample table: \(stored) (expected \(Int(total)))")
    try store.close()
    if let scrapes {
        print("  scrapes of /metrics: \(scrapes.succeeded) answered 200, \(scrapes.failed) failed; "
            + "latency p50 \(format(scrapes.p50Milliseconds, 1)) ms, max \(format(scrapes.maxMilliseconds, 1)) ms, "
            + "\(scrapes.bodyBytes) bytes each")
    }
    try? FileManager.default.removeItem(atPath: dataDirectory)
    return IngestRun(snapshotsPerSecond: total / elapsed, collectorCPUSecondsPer100k: collectorCPU / total * 100_000,
                     maxRSSBytes: usage.maxRSSBytes, scrapes: scrapes)
}

// MARK: - Query latency

func runQueries() throws {
    let dataDirectory = workDirectory + "/query"
    try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    let pointsPerHost = Int(options.hours * 3600) / options.resolutionSeconds
    print("query: seeding \(options.hosts) hosts x \(options.hours) h at \(options.resolutionSeconds) s = \(options.hosts * pointsPerHost) snapshots, \(options.sitesPerSeededHost) sites each")
    let seedStart = Date()
    let store = try SQLiteStore(path: dataDirectory + "/leakwatch.sqlite", logger: Logger(label: "bench"))
    let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
    let startMs = nowMs - Int64(options.hours * 3_600_000)
    let stacks = (0..<options.sitesPerSeededHost).map { site in
        StackDefinition(frames: (0..<10).map { StackFrame(address: UInt64(site * 100 + $0), function: "App.f\(site)_\($0)", file: "F\(site).swift", line: UInt32($0)) })
    }
    var batch: [SnapshotIngest] = []
    batch.reserveCapacity(10_000)
    for point in 0..<pointsPerHost {
        for host in 0..<options.hosts {
            let leak = host % 10 == 0 ? Int64(point) * 2000 : 0
            batch.append(SnapshotIngest(
                process: ProcessIdentity(hostName: "host-\(host)", instanceKey: String(format: "%032x", host), serviceName: "svc-\(host % 5)"),
                sequence: Int64(point + 1), timestampMs: startMs + Int64(point * options.resolutionSeconds * 1000),
                stats: SnapshotStats(
                    bytesAllocatedTotal: Int64(point) * 1_000_000, bytesInUse: 300_000_000 + leak + Int64((point * 7919 + host) % 1_000_000),
                    allocationCount: Int64(point) * 10_000, freeCount: Int64(point) * 9_990, residentBytes: 400_000_000 + leak,
                    uptimeSeconds: Double(point * options.resolutionSeconds)),
                newStacks: point == 0 ? stacks : [],
                sites: stacks.enumerated().map { index, stack in
                    SiteSample(stackDigest: stack.digest, liveBytesEstimate: 1_000_000 + Int64(index) * 10_000 + (index == 0 ? leak : Int64(point % 50) * 100),
                               liveObjectsEstimate: 100, allocatedBytesTotal: Int64(point) * 1000)
                }))
            if batch.count == 10_000 {
                _ = try store.ingest(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
    }
    if !batch.isEmpty { _ = try store.ingest(batch) }
    let seedSeconds = Date().timeIntervalSince(seedStart)
    print("  seeded in \(format(seedSeconds)) s (\(format(Double(options.hosts * pointsPerHost) / seedSeconds, 0)) snapshots/s through SQLiteStore.ingest, one thread)")
    try store.close()
    let size = (try FileManager.default.attributesOfItem(atPath: dataDirectory + "/leakwatch.sqlite")[.size] as? Int) ?? 0
    print("  database file: \(size / 1_048_576) MiB")

    let configuration = try writeConfiguration(#"{"verdictIntervalSeconds": 0, "retentionIntervalSeconds": 0}"#)
    let child = try CollectorChild(dataDirectory: dataDirectory, configurationFile: configuration)
    let connection = try BlockingConnection.connect(host: "127.0.0.1", port: child.port, options: .init(ioTimeoutSeconds: 60))
    _ = try connection.handshake(hello: Wire.Hello(role: .client, hostName: "bench-client"), token: token)

    func timed(_ request: WireMessage) throws -> (Double, WireMessage) {
        let start = DispatchTime.now().uptimeNanoseconds
        try connection.send(request)
        let response = try connection.receive()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6, response)
    }
    // Warm-up: page cache and statement caches, as on a running collector.
    for index in 0..<5 { _ = try timed(.hostReportRequest(.with { $0.requestID = UInt64(index); $0.host = "host-\(index)" })) }
    var latencies: [Double] = []
    var generator = SystemRandomNumberGenerator()
    var seriesPoints = 0
    for index in 0..<options.queries {
        let host = "host-\(Int.random(in: 0..<options.hosts, using: &generator))"
        let (ms, response) = try timed(.hostReportRequest(.with { $0.requestID = UInt64(1000 + index); $0.host = host }))
        guard case .hostReportResponse(let report) = response, report.hostFound else { fatalError("bad response \(response)") }
        seriesPoints = report.series.count
        latencies.append(ms)
    }
    latencies.sort()
    print("  host report (\(options.hours) h window, \(seriesPoints) series points, sites with frames), \(options.queries) random hosts:")
    print("    p50 \(format(percentile(latencies, 0.5), 1)) ms, p95 \(format(percentile(latencies, 0.95), 1)) ms, p99 \(format(percentile(latencies, 0.99), 1)) ms, max \(format(latencies.last ?? .nan, 1)) ms (target p50 <= 50 ms)")
    var fleet: [Double] = []
    for index in 0..<20 { fleet.append(try timed(.fleetOverviewRequest(.with { $0.requestID = UInt64(5000 + index) })).0) }
    fleet.sort()
    print("  fleet overview (\(options.hosts) hosts): p50 \(format(percentile(fleet, 0.5), 1)) ms, max \(format(fleet.last ?? .nan, 1)) ms")
    connection.close()
    let usage = child.stop()
    print("  query collector max RSS: \(usage.maxRSSBytes / 1_048_576) MiB")

    // One verdict pass over every host (what MaintenanceService does each interval).
    let verdictStore = try SQLiteStore(path: dataDirectory + "/leakwatch.sqlite", logger: Logger(label: "bench"))
    let sampleHosts = min(options.hosts, 100)
    let evaluator = VerdictEvaluator()
    let verdictStart = Date()
    for host in try verdictStore.hosts().prefix(sampleHosts) {
        // As MaintenanceService reads it: full host series, sites from 6 points per 10 minutes.
        let window = try verdictStore.window(host: host, fromMs: host.lastSeenMs - 48 * 3_600_000, toMs: host.lastSeenMs, maximumSiteRows: 48 * 6 * 6)
        _ = evaluator.evaluate(window, evaluatedAtMs: host.lastSeenMs)
    }
    let perHost = Date().timeIntervalSince(verdictStart) / Double(sampleHosts) * 1000
    print("  verdict evaluation: \(format(perHost, 1)) ms per host (read window + analysis), \(sampleHosts) hosts timed")
    try verdictStore.close()
}

if !options.skipIngest {
    if options.attackRounds > 0 {
        try runAttackLatency()
    } else if options.metricsRounds > 0 {
        try runMetricsCost()
    } else {
        try runIngest()
    }
}
if !options.skipQuery { try runQueries() }
if options.fleetHosts > 0 { try await runFleetVerdicts() }
