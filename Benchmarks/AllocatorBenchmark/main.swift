// Side-by-side cost of the agent: each workload runs as a child process twice per repetition,
// plain and with libLeakAgentPreload.so preloaded (the same binary: the untracked build against the
// tracked one), alternating so that machine noise hits both alike. The ratio is the median of the
// ratios of each tracked run to the plain run next to it (before it in even repetitions, after it
// in odd ones): a slow drift in the machine's speed (other virtual machines on the host) then
// cancels, where a ratio of two medians would carry it. So it is not the quotient of the two
// median times printed beside it.
// A reference row preloads libInterpositionFloor.so instead, a forward-only interposer: the cost
// of interposition itself, which no LD_PRELOAD or linked-in tracker can go below. Further reference
// rows run the C program under other leak tools found on the machine (LeakSanitizer's runtime
// preloaded, heaptrack, valgrind memcheck), on fewer steps: what the same program costs with them.
// Two rows compare the agent with itself: its guarded pool at the default rate against the pool
// off, on the C program and the Swift workload (the pool's own cost, target 1 %).
//
//   agent/build-preload -c release
//   Benchmarks/InterpositionFloor/build -c release
//   swift build -c release --product AllocatorWorkload
//   swift build -c release --product SwiftAllocationWorkload
//   swift run -c release AllocatorBenchmark [--repetitions N] [--without-other-tools]
//
// Times are measured inside the child around the work (process start-up, which loads the Swift
// runtime with the agent, is reported separately).
import Foundation

/// One way of running a workload: the program, its arguments, and environment added to ours.
struct Command {
    var executable: String
    var arguments: [String]
    var environment: [String: String] = [:]

    /// The same workload run by `tool` (its path and options before the workload's command line).
    func under(_ tool: String, _ options: [String]) -> Command {
        Command(executable: tool, arguments: options + [executable] + arguments, environment: environment)
    }
}

struct Scenario {
    var name: String
    var plain: Command
    var tracked: Command
    var target: Double? // nil: a reference row
    var perUnit: Double // divide nanoseconds by this for the per-unit column
    var unit: String
}

enum Benchmark {
    static let products = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    /// Where heaptrack writes its trace (trace.zst, or trace.gz without zstd); removed at exit.
    static let traceDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("AllocatorBenchmark-\(getpid())").path

    static func require(_ name: String) -> String {
        let path = products.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            print("AllocatorBenchmark: \(path) is missing; build it first:")
            switch name {
            case "libLeakAgentPreload.so": print("  agent/build-preload -c release")
            case "libInterpositionFloor.so": print("  Benchmarks/InterpositionFloor/build -c release")
            default: print("  swift build -c release --product \(name)")
            }
            exit(2)
        }
        return path
    }

    /// The first executable file called `name` on PATH, if any.
    static func onPath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs once; returns the child's own `nanoseconds=` and the whole process's wall time.
    static func run(_ command: Command) -> (work: Double, wall: Double) {
        let (executable, arguments) = (command.executable, command.arguments)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("LEAKWATCH_") || key == "LD_PRELOAD" { environment[key] = nil }
        environment.merge(command.environment) { $1 }
        process.environment = environment
        let pipe = Pipe() // both streams: the tools' chatter is shown only if the run fails
        process.standardOutput = pipe
        process.standardError = pipe
        let start = DispatchTime.now().uptimeNanoseconds
        do { try process.run() } catch {
            print("AllocatorBenchmark: cannot run \(executable): \(error)")
            exit(1)
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start)
        // A library the loader cannot preload is skipped with a message, and the program runs plain.
        guard process.terminationStatus == 0, !output.contains("cannot be preloaded"),
              let field = output.split(whereSeparator: { $0 == " " || $0 == "\n" }).first(where: { $0.hasPrefix("nanoseconds=") }),
              let work = Double(field.dropFirst("nanoseconds=".count)) else {
            print("AllocatorBenchmark: \(executable) \(arguments) failed (status \(process.terminationStatus)): \(output)")
            exit(1)
        }
        return (work, wall)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

var repetitions = 5
var withOtherTools = true
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--repetitions", let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 {
        repetitions = value
    } else if argument == "--without-other-tools" {
        withOtherTools = false
    } else {
        print("usage: AllocatorBenchmark [--repetitions N] [--without-other-tools]")
        exit(2)
    }
}

let library = Benchmark.require("libLeakAgentPreload.so")
let floorLibrary = Benchmark.require("libInterpositionFloor.so")
let cWorkload = Benchmark.require("AllocatorWorkload")
let swiftWorkload = Benchmark.require("SwiftAllocationWorkload")
let preload = ["LD_PRELOAD": library]
let pairs = 20_000_000.0

let pairs1 = Command(executable: cWorkload, arguments: ["pairs", "1", "20000000"])
let pairs2 = Command(executable: cWorkload, arguments: ["pairs", "2", "20000000"])
let swiftRounds = Command(executable: swiftWorkload, arguments: ["300000"])
let program = Command(executable: cWorkload, arguments: ["program", "10000000"])
/// The agent preloaded and configured, its guard rate `guardSample` (nil: the default).
func configured(guardSample: String?) -> [String: String] {
    var environment = preload.merging(["LEAKWATCH_COLLECTOR": "127.0.0.1:1"]) { $1 }
    if let guardSample { environment["LEAKWATCH_GUARD_SAMPLE"] = guardSample }
    return environment
}
func preloading(_ command: Command, _ environment: [String: String]) -> Command {
    var command = command
    command.environment.merge(environment) { $1 }
    return command
}

var scenarios = [
    Scenario(name: "malloc+free pair, 1 thread", plain: pairs1, tracked: preloading(pairs1, preload),
             target: 1.30, perUnit: pairs, unit: "ns/pair"),
    Scenario(name: "malloc+free pair, 2 threads", plain: pairs2, tracked: preloading(pairs2, preload),
             target: 1.30, perUnit: pairs, unit: "ns/pair"),
    // Not a target: what a forward-only interposer costs, the floor under the two rows above.
    Scenario(name: "pair, 1 thread, forward-only interposer", plain: pairs1,
             tracked: preloading(pairs1, ["LD_PRELOAD": floorLibrary]), target: nil, perUnit: pairs, unit: "ns/pair"),
    Scenario(name: "Swift objects/arrays/dicts/strings", plain: swiftRounds, tracked: preloading(swiftRounds, preload),
             target: 1.05, perUnit: 300_000, unit: "ns/round"),
    Scenario(name: "C program, 2 threads, default T", plain: program, tracked: preloading(program, preload),
             target: 1.08, perUnit: 20_000_000, unit: "ns/step"),
    // Not a target: the same with sampling off, the counting alone.
    Scenario(name: "C program, 2 threads, T=0 (no stacks)", plain: program,
             tracked: preloading(program, preload.merging(["LEAKWATCH_SAMPLE_BYTES": "0"]) { $1 }),
             target: nil, perUnit: 20_000_000, unit: "ns/step"),
    Scenario(name: "C program, 2 threads, T=1", plain: program,
             tracked: preloading(program, preload.merging(["LEAKWATCH_SAMPLE_BYTES": "1"]) { $1 }),
             target: 1.9, perUnit: 20_000_000, unit: "ns/step"),
    // The guarded pool's own cost: the agent at the default guard rate against the agent with the
    // pool off (LEAKWATCH_GUARD_SAMPLE=0). The pool exists only in a configured agent, so both
    // name a collector (a closed port: start-up and sampling, no shipping).
    Scenario(name: "C program, guard pool vs pool off", plain: preloading(program, configured(guardSample: "0")),
             tracked: preloading(program, configured(guardSample: nil)), target: 1.01, perUnit: 20_000_000, unit: "ns/step"),
    Scenario(name: "Swift workload, guard pool vs pool off", plain: preloading(swiftRounds, configured(guardSample: "0")),
             tracked: preloading(swiftRounds, configured(guardSample: nil)), target: 1.01, perUnit: 300_000, unit: "ns/round"),
]

// The same C program under other leak tools, on a tenth of the steps (memcheck runs it ~45x slower).
if withOtherTools {
    try? FileManager.default.createDirectory(atPath: Benchmark.traceDirectory, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: Benchmark.traceDirectory) }
    let shortProgram = Command(executable: cWorkload, arguments: ["program", "1000000"])
    let lsanRuntime = "/usr/lib/x86_64-linux-gnu/liblsan.so.0" // Debian's liblsan0 (GCC)
    let tools: [(String, Command?)] = [
        ("C program, LeakSanitizer", FileManager.default.fileExists(atPath: lsanRuntime) ? preloading(shortProgram, ["LD_PRELOAD": lsanRuntime]) : nil),
        ("C program, heaptrack", Benchmark.onPath("heaptrack").map {
            shortProgram.under($0, ["-o", Benchmark.traceDirectory + "/trace"])
        }),
        ("C program, valgrind memcheck", Benchmark.onPath("valgrind").map { shortProgram.under($0, ["-q", "--tool=memcheck"]) }),
    ]
    for (name, command) in tools {
        if let command {
            scenarios.append(Scenario(name: name, plain: shortProgram, tracked: command, target: nil, perUnit: 2_000_000, unit: "ns/step"))
        } else {
            print("AllocatorBenchmark: \(name) skipped: the tool is not installed")
        }
    }
}

print("AllocatorBenchmark: \(repetitions) alternating runs; times are medians, ratios the median of each run's ratio to the plain run next to it")
print("library \(library)")
func column(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
print(column("workload", 42) + column("plain", 12) + column("tracked", 12) + column("unit", 10) + column("ratio", 8)
      + column("target", 8) + column("met", 5) + "outside the work (start-up, exit) plain/tracked ms")
var missed = 0
for scenario in scenarios {
    var plain: [Double] = [], tracked: [Double] = [], plainWall: [Double] = [], trackedWall: [Double] = []
    for repetition in 0..<repetitions {
        let p: (work: Double, wall: Double), t: (work: Double, wall: Double)
        if repetition % 2 == 0 {
            p = Benchmark.run(scenario.plain)
            t = Benchmark.run(scenario.tracked)
        } else {
            t = Benchmark.run(scenario.tracked)
            p = Benchmark.run(scenario.plain)
        }
        plain.append(p.work)
        tracked.append(t.work)
        plainWall.append(p.wall - p.work)
        trackedWall.append(t.wall - t.work)
    }
    let ratio = Benchmark.median(zip(tracked, plain).map { $0 / $1 })
    let met = scenario.target.map { ratio <= $0 }
    if met == false { missed += 1 }
    print(column(scenario.name, 42) + column(format(Benchmark.median(plain) / scenario.perUnit), 12)
          + column(format(Benchmark.median(tracked) / scenario.perUnit), 12) + column(scenario.unit, 10)
          + column(format(ratio, 3) + "x", 8) + column(scenario.target.map { format($0) + "x" } ?? "-", 8)
          + column(met.map { $0 ? "yes" : "NO" } ?? "-", 5)
          + format(Benchmark.median(plainWall) / 1e6, 1) + " / " + format(Benchmark.median(trackedWall) / 1e6, 1))
}
print(missed == 0 ? "all targets met" : "\(missed) target(s) missed")
