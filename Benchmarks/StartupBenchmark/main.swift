// What preloading the agent costs a process that starts, does little and exits: the 1,000-process
// shell loop of a build or a CGI server, where the agent's start-up is all of its cost.
//
// Three ways of running, side by side in one run, alternating their order every repetition:
//   plain        no LD_PRELOAD
//   unconfigured libLeakAgentPreload.so preloaded, no LEAKWATCH_* variable (the C core only)
//   configured   preloaded with LEAKWATCH_COLLECTOR set (to a closed port: start-up, not
//                shipping), so the Swift runtime is loaded on the agent's own thread
// Rows: bash running /bin/true N times (per-exec cost and the loop's ratio), and the peak RSS of
// `sleep 0` (wait4's ru_maxrss).
//
//   agent/build-preload -c release
//   swift run -c release StartupBenchmark [--repetitions N] [--processes N]
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct Way {
    let name: String
    let environment: [String: String]
}

/// Runs `arguments` with `environment` added to a clean copy of ours; its wall time in seconds.
/// Exits the benchmark if the child fails.
func run(_ arguments: [String], _ environment: [String: String]) -> Double {
    var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LEAKWATCH_") && $0.key != "LD_PRELOAD" }
    merged.merge(environment) { $1 }
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let start = DispatchTime.now().uptimeNanoseconds
    guard posix_spawn(&pid, arguments[0], nil, nil, argv, envp) == 0 else {
        print("StartupBenchmark: cannot run \(arguments[0])")
        exit(1)
    }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard status == 0 else {
        print("StartupBenchmark: \(arguments) failed (wait status \(status))")
        exit(1)
    }
    return seconds
}

/// The peak RSS of `arguments` alone, as time(1) measures it: a child's ru_maxrss counts the image
/// it replaced at exec too, and a child of this benchmark starts as a copy of its 18 MB.
func peakRSSKiB(_ arguments: [String], _ environment: [String: String]) -> Int {
    let report = FileManager.default.temporaryDirectory.appendingPathComponent("StartupBenchmark-\(getpid()).rss").path
    defer { unlink(report) }
    let command = ["/usr/bin/time", "-o", report, "-f", "%M", "/usr/bin/env"]
        + environment.map { "\($0.key)=\($0.value)" } + arguments
    _ = run(command, [:])
    guard let text = try? String(contentsOfFile: report, encoding: .utf8),
          let kibibytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        print("StartupBenchmark: /usr/bin/time (Debian's time package) printed no peak RSS")
        exit(1)
    }
    return kibibytes
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

var repetitions = 7
var processes = 1000
var options = CommandLine.arguments.dropFirst()
while let option = options.popFirst() {
    if option == "--repetitions", let value = options.popFirst().flatMap({ Int($0) }), value > 0 {
        repetitions = value
    } else if option == "--processes", let value = options.popFirst().flatMap({ Int($0) }), value > 0 {
        processes = value
    } else {
        print("usage: StartupBenchmark [--repetitions N] [--processes N]")
        exit(2)
    }
}

let products = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
let library = products.appendingPathComponent("libLeakAgentPreload.so").path
guard FileManager.default.fileExists(atPath: library),
      FileManager.default.fileExists(atPath: products.appendingPathComponent("libLeakAgentRuntime.so").path) else {
    print("StartupBenchmark: \(library) or libLeakAgentRuntime.so beside it is missing; build them with")
    print("  agent/build-preload -c release")
    exit(2)
}

// A port nothing listens on: bound, then closed.
let closedPort: Int = {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            _ = bind(socket, pointer, length)
            _ = getsockname(socket, pointer, &length)
        }
    }
    close(socket)
    return Int(UInt16(bigEndian: address.sin_port))
}()

let ways = [
    Way(name: "plain", environment: [:]),
    Way(name: "unconfigured", environment: ["LD_PRELOAD": library]),
    Way(name: "configured", environment: ["LD_PRELOAD": library, "LEAKWATCH_COLLECTOR": "127.0.0.1:\(closedPort)"]),
]
let loop = ["/bin/bash", "-c", "for ((i = 0; i < \(processes); i++)); do /bin/true; done"]

var loopSeconds = [String: [Double]]()
var sleepRSS = [String: [Double]]()
for repetition in 0..<repetitions {
    let order = repetition % 2 == 0 ? ways : ways.reversed()
    for way in order {
        loopSeconds[way.name, default: []].append(run(loop, way.environment))
        sleepRSS[way.name, default: []].append(Double(peakRSSKiB(["/bin/sleep", "0"], way.environment)))
    }
}

print("StartupBenchmark: \(repetitions) repetitions, bash running /bin/true \(processes) times; medians")
print("way           loop (s)  per exec (ms)  added per exec (ms)  loop ratio  sleep 0 RSS (MB)  added RSS (MB)")
let plainLoop = median(loopSeconds["plain"]!)
let plainRSS = median(sleepRSS["plain"]!) / 1024
for way in ways {
    let seconds = median(loopSeconds[way.name]!)
    let rss = median(sleepRSS[way.name]!) / 1024
    let name = way.name.padding(toLength: 12, withPad: " ", startingAt: 0)
    print(name + String(format: "  %8.3f  %13.3f  %19.3f  %9.2fx  %16.1f  %14.1f", seconds,
                 seconds / Double(processes) * 1000, (seconds - plainLoop) / Double(processes) * 1000,
                 seconds / plainLoop, rss, rss - plainRSS))
}
print("targets: unconfigured ≤ 1 ms and ≤ 3 MB added per exec; the loop ≤ 1.3x")
