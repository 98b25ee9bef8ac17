// A small stand-in for a production server, linked with the agent, for the demo and the
// end-to-end tests: it serves synthetic "requests" that allocate and free, keeps a bounded
// cache, and with --leak also keeps every session forever (SessionRegistry.openSession).
import LeakAgent
#if canImport(Glibc)
import Glibc
#endif

final class Session {
    let id: Int
    let payload: [UInt8]
    init(id: Int, payloadBytes: Int) {
        self.id = id
        self.payload = [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: payloadBytes)
    }
}

/// The leak: sessions are opened and registered, and never removed.
enum SessionRegistry {
    nonisolated(unsafe) static var sessions: [Session] = []

    @inline(never)
    static func openSession(id: Int, payloadBytes: Int) {
        sessions.append(Session(id: id, payloadBytes: payloadBytes))
    }
}

/// A cache that fills to a cap and then evicts: growth that is not a leak.
struct BoundedCache {
    var entries: [Int: [UInt8]] = [:]
    let capacity: Int

    mutating func store(_ key: Int, bytes: Int) {
        if entries.count >= capacity, let victim = entries.keys.first { entries[victim] = nil }
        entries[key] = [UInt8](repeating: 1, count: bytes)
    }
}

@inline(never)
func handleRequest(_ number: Int, cache: inout BoundedCache) -> Int {
    var response = ""
    for part in 0..<8 { response += "part-\(part)-of-request-\(number);" }
    var scratch = [Int](repeating: number, count: 64 + number % 256)
    scratch.sort()
    cache.store(number % 50_000, bytes: 256)
    return response.utf8.count + scratch.count
}

var leak = false
var requestsPerSecond = 2_000
var leakBytesPerSecond = 64 * 1024
var seconds = Double.infinity
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--leak": leak = true
    case "--requests-per-second": requestsPerSecond = Int(arguments.next() ?? "") ?? requestsPerSecond
    case "--leak-bytes-per-second": leakBytesPerSecond = Int(arguments.next() ?? "") ?? leakBytesPerSecond
    case "--seconds": seconds = Double(arguments.next() ?? "") ?? seconds
    default:
        print("usage: leakwatch-demo-server [--leak] [--requests-per-second N] [--leak-bytes-per-second N] [--seconds S]")
        exit(2)
    }
}

LeakAgent.startFromEnvironment()
var cache = BoundedCache(capacity: 2_000)
var checksum = 0
// Work is paced on absolute 10 ms ticks, so the request rate (the traffic the collector sees)
// stays steady whatever the machine's load; a late tick catches up.
let tickNanoseconds: UInt64 = 10_000_000
let ticksPerSecond = 100
var sessionNumber = 0
var leakedBytes = 0
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
let start = monotonicNanoseconds()
var tick: UInt64 = 0
while Double(tick) / Double(ticksPerSecond) < seconds {
    for _ in 0..<max(1, requestsPerSecond / ticksPerSecond) {
        checksum &+= handleRequest(checksum & 0xFFFF, cache: &cache)
    }
    if leak {
        let sessionBytes = 2_048
        let due = Int(tick + 1) * leakBytesPerSecond / ticksPerSecond
        while leakedBytes + sessionBytes <= due {
            sessionNumber += 1
            leakedBytes += sessionBytes
            SessionRegistry.openSession(id: sessionNumber, payloadBytes: sessionBytes)
        }
    }
    tick += 1
    let deadline = start + tick * tickNanoseconds
    let now = monotonicNanoseconds()
    if deadline > now { usleep(UInt32((deadline - now) / 1_000)) }
}
print("checksum \(checksum)")
