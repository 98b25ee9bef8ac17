// StoreBenchmark: the two stores side by side, through the FleetStore seam the collector uses.
//
//   swift build -c release --product StoreBenchmark
//   .build/release/StoreBenchmark [--hosts 300] [--minutes 30] [--sites 20] [--batch 512] [--postgres URL]
//
// For SQLite, then PostgreSQL with 1, 2 and 3 collectors on one database (a throwaway cluster
// started by the benchmark, or --postgres for one of yours: a new database per run is expected):
//
// * ingest: `--hosts` hosts x `--minutes` minutes of snapshots at 10 s with `--sites` sites each,
//   split by host among the collectors, each collector one writer thread committing `--batch`
//   snapshots a transaction, as its BatchWriter does under load. Snapshots/s over the whole run.
// * verdicts: every collector runs the verdict pass's per-host work (its share of the hosts by
//   `verdictShare`, each host's window read and judged), the collectors in parallel. Hosts/s and
//   CPU milliseconds per host.
//
// The collectors are stores in this one process (each its own connections, caches and
// membership), so the figures leave out the wire (decode, inflate, TCP: IngestBenchmark's) and
// show what the store and the database cost. On a 2-core machine PostgreSQL's own processes
// share the cores with the collectors: more collectors here measure contention, not scale-out.
import Dispatch
import Foundation
import LeakCollector
import LeakTestSupport
import Logging

struct Options {
    var hosts = 300
    var minutes = 30
    var sites = 20
    var batch = 512
    var postgres: String?
}

func parse() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        func value() -> String {
            guard let value = arguments.next() else { fatalError("\(argument) needs a value") }
            return value
        }
        switch argument {
        case "--hosts": options.hosts = Int(value())!
        case "--minutes": options.minutes = Int(value())!
        case "--sites": options.sites = Int(value())!
        case "--batch": options.batch = Int(value())!
        case "--postgres": options.postgres = value()
        default:
            print("usage: StoreBenchmark [--hosts N] [--minutes N] [--sites N] [--batch N] [--postgres URL]")
            exit(argument == "--help" ? 0 : 64)
        }
    }
    return options
}

func snapshots(host: Int, options: Options) -> [SnapshotIngest] {
    let stacks = (0..<options.sites).map { StackDefinition(frames: [StackFrame(address: UInt64($0), function: "site\($0)", image: "app")]) }
    let count = options.minutes * 6
    return (0..<count).map { index in
        let heap = Int64(50 << 20) + Int64(index) * (host % 3 == 0 ? 4096 : 0) + Int64(index % 7) * 1024
        return SnapshotIngest(
            process: ProcessIdentity(hostName: "host-\(host)", instanceKey: "i\(host)", serviceName: "bench"),
            sequence: Int64(index + 1), timestampMs: 1_800_000_000_000 + Int64(index) * 10_000,
            stats: SnapshotStats(bytesAllocatedTotal: Int64(index) * 1_000_000, bytesInUse: heap, peakBytesInUse: heap,
                                 allocationCount: Int64(index) * 1000, freeCount: Int64(index) * 990, residentBytes: heap * 2,
                                 uptimeSeconds: Double(index) * 10),
            newStacks: index == 0 ? stacks : [],
            sites: stacks.enumerated().map { site, definition in
                SiteSample(stackDigest: definition.digest, liveBytesEstimate: Int64(1000 * (site + 1) + index), liveObjectsEstimate: 10,
                           allocatedBytesTotal: Int64(index) * 100)
            })
    }
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Runs `work(i)` for i in 0..<count on threads of their own; returns the wall seconds.
func parallel(_ count: Int, _ work: @escaping @Sendable (Int) throws -> Void) -> Double {
    let started = Date()
    DispatchQueue.concurrentPerform(iterations: count) { index in
        do { try work(index) } catch { fatalError("\(error)") }
    }
    return Date().timeIntervalSince(started)
}

struct Figures {
    var name: String
    var snapshotsPerSecond: Double
    var hostsPerSecond: Double
    var cpuMillisecondsPerHost: Double
    /// Growth of the store's size on disk over the ingest, per snapshot.
    var bytesPerSnapshot: Double
}

func measure(name: String, stores: [any FleetStore], options: Options) -> Figures {
    let collectors = stores.count
    let perHost = (0..<options.hosts).map { snapshots(host: $0, options: options) }
    let total = perHost.reduce(0) { $0 + $1.count }
    let sizeBefore = (try? stores[0].storageBytes()) ?? 0
    // Each collector writes its hosts, interleaved in time as a fleet ships, in batches.
    let ingestSeconds = parallel(collectors) { collector in
        let mine = stride(from: collector, to: options.hosts, by: collectors).map { perHost[$0] }
        var batch: [SnapshotIngest] = []
        for index in 0..<(options.minutes * 6) {
            for host in mine {
                batch.append(host[index])
                if batch.count == options.batch { _ = try stores[collector].ingest(batch); batch = [] }
            }
        }
        if !batch.isEmpty { _ = try stores[collector].ingest(batch) }
    }
    let sizeAfter = (try? stores[0].storageBytes()) ?? 0
    let evaluator = VerdictEvaluator()
    let cpuBefore = cpuSeconds()
    let judged = Locked(0)
    let verdictSeconds = parallel(collectors) { collector in
        let store = stores[collector]
        for host in try store.verdictShare(of: store.hosts()) {
            let window = try store.window(host: host, fromMs: host.lastSeenMs - 48 * 3_600_000, toMs: host.lastSeenMs, maximumSiteRows: 600)
            try store.storeVerdict(evaluator.evaluate(window, evaluatedAtMs: host.lastSeenMs))
            judged.withLock { $0 += 1 }
        }
    }
    let hosts = judged.withLock { $0 }
    return Figures(
        name: name, snapshotsPerSecond: Double(total) / ingestSeconds, hostsPerSecond: Double(hosts) / verdictSeconds,
        cpuMillisecondsPerHost: (cpuSeconds() - cpuBefore) * 1000 / Double(max(hosts, 1)),
        bytesPerSnapshot: Double(sizeAfter - sizeBefore) / Double(total))
}

let options = parse()
let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
print("StoreBenchmark: \(options.hosts) hosts x \(options.minutes) min at 10 s (\(options.hosts * options.minutes * 6) snapshots, "
    + "\(options.sites) sites each), batches of \(options.batch)")
var results: [Figures] = []
let directory = try TemporaryDirectory()
defer { directory.remove() }
let sqlite = try SQLiteStore(path: directory.path + "/leakwatch.sqlite", logger: logger)
results.append(measure(name: "SQLite, 1 collector", stores: [sqlite], options: options))
try sqlite.close()
for collectors in 1...3 {
    let url: String
    if let given = options.postgres { url = given } else { url = try await TemporaryPostgres.shared.database() }
    var configuration = CollectorConfiguration()
    configuration.storeLocation = try StoreLocation(parsing: url)
    let stores = try (0..<collectors).map { _ in try openStore(configuration, logger: logger) }
    results.append(measure(name: "PostgreSQL, \(collectors) collector\(collectors == 1 ? "" : "s")", stores: stores, options: options))
    for store in stores { try store.close() }
}
print("")
print("| store | ingest, snapshots/s | verdicts, hosts/s | CPU per host judged (this process) | disk per snapshot |")
print("|---|---|---|---|---|")
for figures in results {
    print("| \(figures.name) | \(Int(figures.snapshotsPerSecond)) | \(Int(figures.hostsPerSecond)) | \(String(format: "%.1f", figures.cpuMillisecondsPerHost)) ms | \(Int(figures.bytesPerSnapshot)) B |")
}
