// What the agent costs real servers: Debian's redis-server (under redis-benchmark: SET, GET, LPUSH,
// INCR, pipelined), nginx with 2 workers (under wrk), memcached (under a small load generator of
// our own, LoadTools.swift) and a SwiftNIO HTTP server linked with LeakAgentHooks (under wrk),
// each plain and with the agent shipping to a live collector (a release build on a loopback port),
// and with the agent at T = 1 (every allocation sampled).
//
// Side by side in one run: every repetition runs each server once each way, in alternating order
// (plain first in even repetitions, last in odd ones), a fresh server process per run. A ratio is
// the median over repetitions of (agent run / the plain run of the same repetition), so that a slow
// drift of this shared machine cancels. Throughput is the load tool's requests per second; p99 its
// 99th percentile latency (redis-benchmark: per pipelined batch of 16). At the end the collector is
// asked, through collector-cli, which hosts it stored snapshots from: a run whose agent did not
// ship fails the benchmark rather than report a cost it never paid.
//
// Everything listens on 127.0.0.1; every process started is in a process group of its own and is
// killed at exit, on SIGINT and on SIGTERM.
//
//   apt-get install redis-server redis-tools nginx-light wrk memcached
//   agent/build-preload -c release
//   for product in collector collector-cli NIOHTTPServer ServerBenchmark; do swift build -c release --product $product; done
//   .build/release/ServerBenchmark [--seconds N] [--repetitions N] [--interval SECONDS] [--without-t1]
//                                  [--servers redis,nginx,memcached,swift-nio]
//   .build/release/ServerBenchmark --smoke     # .ci/run: each server briefly under the agent, answers
//                                              # checked, snapshots found in the collector
//   .build/release/ServerBenchmark --memory --seconds 600 --interval 1
//                                              # the agent's memory over a long run (MemoryRun.swift);
//                                              # --seconds 86400 is the 24 h soak
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let usage = "usage: ServerBenchmark [--seconds N] [--repetitions N] [--interval SECONDS] [--without-t1] [--servers a,b] [--smoke | --memory]"
var seconds = 15
var repetitions = 4
var intervalSeconds: String?
var withEveryAllocation = true
var smoke = false
var memory = false
var selected: Set<String>?
var options = CommandLine.arguments.dropFirst()
func badUsage() -> Never {
    print(usage)
    exit(2)
}
func positiveNumber(_ text: String?) -> Int {
    guard let value = text.flatMap({ Int($0) }), value > 0 else { badUsage() }
    return value
}
while let option = options.popFirst() {
    switch option {
    case "--seconds": seconds = positiveNumber(options.popFirst())
    case "--repetitions": repetitions = positiveNumber(options.popFirst())
    case "--interval":
        guard let text = options.popFirst(), let value = Double(text), value >= 0.05 else { badUsage() }
        intervalSeconds = text
    case "--without-t1": withEveryAllocation = false
    case "--servers":
        guard let list = options.popFirst() else { badUsage() }
        selected = Set(list.split(separator: ",").map(String.init))
    case "--smoke": smoke = true
    case "--memory": memory = true
    default: badUsage()
    }
}

// MARK: What it needs

let products = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
func product(_ name: String, _ build: String) -> String {
    let path = products.appendingPathComponent(name).path
    guard FileManager.default.fileExists(atPath: path) else { fail("\(path) is missing; build it with\n  \(build)") }
    return path
}
let collectorPath = product("collector", "swift build -c release --product collector")
let cliPath = product("collector-cli", "swift build -c release --product collector-cli")
let nioServerPath = product("NIOHTTPServer", "swift build -c release --product NIOHTTPServer")
let library = product("libLeakAgentPreload.so", "agent/build-preload -c release")
_ = product("leakwatch-symbolizer", "agent/build-preload -c release")
_ = product("libLeakAgentRuntime.so", "agent/build-preload -c release")
// agent/leakwatch-run of the repository these products were built in.
let leakwatchRun: String = {
    var directory = products
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("agent/leakwatch-run").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    fail("agent/leakwatch-run not found above \(products.path)")
}()
let debianTools = ["/usr/bin/redis-server": "redis-server", "/usr/bin/redis-benchmark": "redis-tools", "/usr/bin/redis-cli": "redis-tools",
                   "/usr/sbin/nginx": "nginx-light", "/usr/bin/wrk": "wrk", "/usr/bin/memcached": "memcached"]
let missingPackages = Set(debianTools.filter { !FileManager.default.isExecutableFile(atPath: $0.key) }.values)
if !missingPackages.isEmpty { fail("missing programs; install them with\n  apt-get install \(missingPackages.sorted().joined(separator: " "))") }

var servers = [Servers.redis(), Servers.nginx(), Servers.memcached(), Servers.swiftNIO(executable: nioServerPath)]
if let selected {
    servers = servers.filter { selected.contains($0.name) }
    guard !servers.isEmpty else { fail("--servers names none of redis, nginx, memcached, swift-nio") }
}

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ServerBenchmark-\(getpid())").path
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
let scratchForCleanup = scratch
atexit { try? FileManager.default.removeItem(atPath: scratchForCleanup) }
Children.installCleanup() // registered after the directory's removal, so it runs before it

let collector = LiveCollector.start(collector: collectorPath, cli: cliPath, directory: scratch)
var settings = AgentSettings(leakwatchRun: leakwatchRun, library: library, collector: collector.address,
                             tokenFile: collector.tokenFile, intervalSeconds: intervalSeconds)

func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
}

/// Starts `server` the given way and waits until it listens: its process group and port.
@MainActor
func startServer(_ server: Server, _ way: Way) -> (pid: pid_t, port: Int) {
    let port = freeLoopbackPort()
    let logPath = "\(scratch)/\(server.name)-\(port).log"
    let (arguments, environment) = server.launch(way, port: port, directory: scratch, settings: settings)
    let pid = Children.spawn(arguments, environment: environment, logPath: logPath)
    guard waitUntilListening(port: port, pid: pid) else {
        fail("\(server.name) (\(way.rawValue)) did not listen on \(port); its log:\n"
             + ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""))
    }
    return (pid, port)
}

/// Starts `server` the given way, runs `body` on its port, stops it. Also returns the resident
/// memory of its process group just before the stop.
@MainActor
func withServer<Result>(_ server: Server, _ way: Way, _ body: (Int) -> Result) -> (Result, residentBytes: Int) {
    let (pid, port) = startServer(server, way)
    let result = body(port)
    let resident = Children.residentBytes(ofGroup: pid)
    Children.stop(pid)
    return (result, resident)
}

// MARK: Smoke: each server briefly under the agent, shipping every second

if smoke {
    settings.intervalSeconds = "1"
    var failures = 0
    for server in servers {
        let started = Date()
        let (problem, _) = withServer(server, .agent) { port -> String? in
            let problem = server.check(port)
            // At least two intervals, so that a snapshot has been shipped whatever the phase.
            let remaining = 2.5 - Date().timeIntervalSince(started)
            if remaining > 0 { usleep(UInt32(remaining * 1e6)) }
            return problem
        }
        let stored = collector.hosts().contains(server.hostName) ? collector.instances(of: server.hostName) : 0
        // nginx: the master and each of its 2 workers are instances of their own.
        let instancesExpected = server.name == "nginx" ? 3 : 1
        var verdict = problem ?? ""
        if stored < instancesExpected {
            verdict += (verdict.isEmpty ? "" : "; ") + "the collector stored snapshots from \(stored) process(es) of \(server.hostName), expected \(instancesExpected)"
        }
        print((verdict.isEmpty ? "ok    " : "FAIL  ") + server.name.padding(toLength: 10, withPad: " ", startingAt: 0)
              + (verdict.isEmpty ? "answers checked under the agent; collector stored \(stored) process instance(s)" : verdict))
        if !verdict.isEmpty { failures += 1 }
    }
    print(failures == 0 ? "ServerBenchmark --smoke: all \(servers.count) servers passed" : "ServerBenchmark --smoke: \(failures) failed")
    exit(failures == 0 ? 0 : 1)
}

if memory {
    exit(measureMemory(of: servers, seconds: seconds))
}

// MARK: Benchmark

let ways: [Way] = withEveryAllocation ? [.plain, .agent, .agentEveryAllocation] : [.plain, .agent]
let loadAtStart = loadAverage()
print("ServerBenchmark: \(repetitions) alternating repetitions of \(seconds) s per server and way; agent interval "
      + "\(intervalSeconds.map { "\($0) s" } ?? "default (10 s)"); collector \(collector.address); load average \(loadAtStart)")

// A plain warm-up of each server (page cache, redis-benchmark's request counts), not counted.
for server in servers {
    _ = withServer(server, .plain) { server.load($0, min(seconds, 5)) }
}

struct Sample { var measurements: [Measurement]; var residentBytes: Int }
var samples: [String: [Way: [Sample]]] = [:]
for repetition in 0..<repetitions {
    for server in servers {
        let order = repetition % 2 == 0 ? ways : ways.reversed()
        for way in order {
            let (measurements, resident) = withServer(server, way) { server.load($0, seconds) }
            samples[server.name, default: [:]][way, default: []].append(Sample(measurements: measurements, residentBytes: resident))
            let summary = zip(server.rows, measurements).map { String(format: "%@ %.0f/s p99 %.2f ms", $0.0, $0.1.opsPerSecond, $0.1.p99Milliseconds) }
            // Progress on standard error, unbuffered: the table on standard output is the result.
            FileHandle.standardError.write(Data("  repetition \(repetition + 1) \(server.name) \(way.rawValue): \(summary.joined(separator: "; ")) [load \(loadAverage())]\n".utf8))
        }
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
func column(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }

let throughputTarget = 0.97, p99Target = 1.05
print("\nServerBenchmark: medians of \(repetitions) runs; ratios the median of each run's ratio to the plain run of its repetition; "
      + "load average \(loadAtStart) at start, \(loadAverage()) at end")
print(column("server", 32) + column("way", 10) + column("plain ops/s", 12) + column("ops/s", 12) + column("ratio", 7) + column("≥0.97", 6)
      + column("plain p99 ms", 13) + column("p99 ms", 8) + column("ratio", 7) + column("≤1.05", 6) + "RSS plain → way MiB")
var missed = 0
for server in servers {
    guard let byWay = samples[server.name], let plain = byWay[.plain] else { continue }
    for (index, row) in server.rows.enumerated() {
        for way in ways where way != .plain {
            guard let tracked = byWay[way] else { continue }
            let plainRow = plain.map { $0.measurements[index] }, trackedRow = tracked.map { $0.measurements[index] }
            let throughputRatio = median(zip(trackedRow, plainRow).map { $0.opsPerSecond / $1.opsPerSecond })
            let p99Ratio = median(zip(trackedRow, plainRow).map { $0.p99Milliseconds / $1.p99Milliseconds })
            let judged = way == .agent // targets are for the default T; T = 1 is reported
            let throughputMet = throughputRatio >= throughputTarget, p99Met = p99Ratio <= p99Target
            if judged && !throughputMet { missed += 1 }
            if judged && !p99Met { missed += 1 }
            let resident = index == 0
                ? String(format: "%.1f → %.1f", median(plain.map { Double($0.residentBytes) }) / 1_048_576,
                         median(tracked.map { Double($0.residentBytes) }) / 1_048_576) : ""
            print(column(row, 32) + column(way.rawValue, 10)
                  + column(String(format: "%.0f", median(plainRow.map(\.opsPerSecond))), 12)
                  + column(String(format: "%.0f", median(trackedRow.map(\.opsPerSecond))), 12)
                  + column(String(format: "%.3f", throughputRatio), 7) + column(judged ? (throughputMet ? "yes" : "NO") : "-", 6)
                  + column(String(format: "%.2f", median(plainRow.map(\.p99Milliseconds))), 13)
                  + column(String(format: "%.2f", median(trackedRow.map(\.p99Milliseconds))), 8)
                  + column(String(format: "%.3f", p99Ratio), 7) + column(judged ? (p99Met ? "yes" : "NO") : "-", 6) + resident)
        }
    }
}

// The agent runs count only if the agent shipped: ask the collector.
let storedHosts = collector.hosts()
var notShipping: [String] = []
var shipped: [String] = []
for server in servers {
    let instances = storedHosts.contains(server.hostName) ? collector.instances(of: server.hostName) : 0
    if instances == 0 { notShipping.append(server.hostName) } else { shipped.append("\(server.hostName) \(instances)") }
}
print("collector: snapshots stored from " + (shipped.isEmpty ? "no host" : shipped.joined(separator: ", ")) + " process instance(s)")
if !notShipping.isEmpty {
    print("ServerBenchmark: no snapshot stored from \(notShipping.joined(separator: ", ")): those agent runs did not ship")
    exit(1)
}
print("targets (default interval): throughput ≥ \(throughputTarget)x, p99 ≤ \(p99Target)x; T=1 reported without a target")
print(missed == 0 ? "all targets met" : "\(missed) target(s) missed")
