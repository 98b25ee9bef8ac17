// `--memory`: what the agent adds to each server's memory while it ships, and whether that grows
// with uptime. Each server runs two ways at once (plain; the agent shipping), the two loaded in turn
// in bursts of a few seconds, and after each round the memory of each one's process group is read:
// RSS, and the pages no other process maps. "Added" is a way's figure less the plain server's,
// per process (nginx is a master and 2 workers). Growth is the added RSS at the end less the added
// RSS at the first round after the warm-up (the agent's first snapshots, the symbolizer's first run).
// leakwatch-symbolizer, in the server's process group while it runs, is counted apart: its
// largest RSS seen in a sample is reported.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

let memoryTargetBytes = 10 * 1_048_576
let warmUpSeconds = 20.0
let burstSeconds = 3

@MainActor
func measureMemory(of servers: [Server], seconds: Int) -> Int32 {
    let ways: [Way] = [.plain, .agent]
    print("ServerBenchmark --memory: \(seconds) s per server, both ways at once, loaded in turn "
          + "\(burstSeconds) s each; agent interval \(settings.intervalSeconds.map { "\($0) s" } ?? "default (10 s)")")
    var missed = 0
    for server in servers {
        let started = ways.map { way in (way, startServer(server, way)) }
        let start = Date()
        var early: [Way: Children.GroupMemory]?
        var last: [Way: Children.GroupMemory] = [:]
        var symbolizerPeak = 0
        repeat {
            for (_, (_, port)) in started { _ = server.load(port, burstSeconds) }
            last = Dictionary(uniqueKeysWithValues: started.map { ($0.0, Children.memory(ofGroup: $0.1.pid)) })
            let elapsed = Date().timeIntervalSince(start)
            if early == nil, elapsed >= warmUpSeconds { early = last }
            symbolizerPeak = max(symbolizerPeak, last.values.map(\.symbolizerResident).max() ?? 0)
            let line = ways.map { "\($0.rawValue) \(mebibytes(last[$0]?.resident ?? 0)) MiB" }.joined(separator: ", ")
            FileHandle.standardError.write(Data("  \(server.name) \(Int(elapsed)) s: RSS \(line)\n".utf8))
        } while Date().timeIntervalSince(start) < Double(seconds)
        for (_, (pid, _)) in started { Children.stop(pid) }

        guard let plain = last[.plain], plain.processes > 0 else { fail("\(server.name): the plain server has no process left") }
        print("\n\(server.name): plain RSS \(mebibytes(plain.resident)) MiB in \(plain.processes) process(es), unshared \(mebibytes(plain.unshared)) MiB; "
              + "leakwatch-symbolizer seen at " + (symbolizerPeak > 0 ? "\(mebibytes(symbolizerPeak)) MiB RSS at most" : "no sample"))
        for way in [Way.agent] {
            guard let end = last[way] else { continue }
            let processes = max(plain.processes, 1)
            let addedResident = (end.resident - plain.resident) / processes
            let addedUnshared = (end.unshared - plain.unshared) / processes
            // The added memory's growth, not the server's: a redis under load grows its dataset.
            let growth = early.flatMap { early in
                early[way].flatMap { wayEarly in
                    early[.plain].map { plainEarly in
                        ((end.resident - plain.resident) - (wayEarly.resident - plainEarly.resident)) / processes
                    }
                }
            }
            let met = addedResident <= memoryTargetBytes && (growth ?? 0) <= 1_048_576
            if way == .agent && !met { missed += 1 }
            print("  \(way.rawValue): added per process RSS \(mebibytes(addedResident)) MiB, unshared \(mebibytes(addedUnshared)) MiB; "
                  + "growth since \(Int(warmUpSeconds)) s \(growth.map { mebibytes($0) } ?? "-") MiB"
                  + (way == .agent ? (met ? "  (≤ 10 MiB, flat: met)" : "  (≤ 10 MiB, flat: NOT met)") : ""))
        }
    }
    print(missed == 0 ? "\nmemory targets met" : "\n\(missed) memory target(s) missed")
    return missed == 0 ? 0 : 1
}

func mebibytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
