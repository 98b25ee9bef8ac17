// Driving the servers: redis-benchmark and wrk, whose reports are parsed here, and, for memcached
// (Debian 12 packages neither memtier_benchmark nor mc-crusher, and its memcaslap reports no
// percentiles), a small closed-loop generator over the text protocol.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What one load run measured.
struct Measurement {
    var opsPerSecond: Double
    var p99Milliseconds: Double
}

enum RedisBenchmark {
    static let tests = ["SET", "GET", "LPUSH", "INCR"]

    /// One test: pipelined 16 deep, 50 connections, 100,000 random keys, 32-byte values.
    static func run(port: Int, test: String, requests: Int) -> Measurement {
        let arguments = ["/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p", String(port), "-t", test.lowercased(),
                         "-P", "16", "-c", "50", "-r", "100000", "-d", "32", "-n", String(requests), "--csv"]
        let (status, output) = Children.runTool(arguments, timeoutSeconds: 300)
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        guard status == 0,
              let row = output.split(separator: "\n").first(where: { $0.hasPrefix("\"\(test)\"") }) else {
            fail("redis-benchmark \(test) failed (status \(status)): \(output)")
        }
        let fields = row.split(separator: ",").map { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
        guard fields.count >= 7, let rps = fields[1], let p99 = fields[6] else { fail("redis-benchmark printed \(row)") }
        return Measurement(opsPerSecond: rps, p99Milliseconds: p99)
    }
}

enum Wrk {
    /// `seconds` of keep-alive GETs on 64 connections from 2 threads. Fails on any error or non-2xx.
    static func run(url: String, seconds: Int) -> Measurement {
        let arguments = ["/usr/bin/wrk", "-t", "2", "-c", "64", "-d", "\(seconds)s", "--timeout", "5s", "--latency", url]
        let (status, output) = Children.runTool(arguments, timeoutSeconds: Double(seconds) + 60)
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard status == 0,
              let rpsLine = lines.first(where: { $0.hasPrefix("Requests/sec:") }),
              let rps = Double(rpsLine.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces)),
              let p99Line = lines.first(where: { $0.hasPrefix("99%") }),
              let p99 = milliseconds(p99Line.dropFirst(3).trimmingCharacters(in: .whitespaces)) else {
            fail("wrk \(url) failed (status \(status)): \(output)")
        }
        if let problem = lines.first(where: { $0.hasPrefix("Non-2xx") || $0.hasPrefix("Socket errors") }) {
            fail("wrk \(url): \(problem)\n\(output)")
        }
        return Measurement(opsPerSecond: rps, p99Milliseconds: p99)
    }

    /// wrk's durations: "635.00us", "3.10ms", "1.02s".
    static func milliseconds(_ text: String) -> Double? {
        for (suffix, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }
}

/// A blocking loopback connection that sends a request and reads until its response is complete.
final class LoopbackConnection {
    let socket: Int32
    private var chunk = [UInt8](repeating: 0, count: 16 * 1024)

    init?(port: Int) {
        guard let socket = connectLoopback(port: port) else { return nil }
        var timeout = timeval(tv_sec: 5, tv_usec: 0) // a wedged server fails the run, never hangs it
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.socket = socket
    }

    deinit { close(socket) }

    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { write(socket, $0.baseAddress, $0.count) }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    /// Reads until the bytes received end with `terminator` (nil: until the peer closes).
    func receive(until terminator: [UInt8]?) -> [UInt8]? {
        var response: [UInt8] = []
        while true {
            let count = chunk.withUnsafeMutableBytes { read(socket, $0.baseAddress, $0.count) }
            if count == 0, terminator == nil { return response }
            guard count > 0 else { return nil }
            response += chunk[0..<count]
            if let terminator, response.count >= terminator.count, response.suffix(terminator.count).elementsEqual(terminator) {
                return response
            }
        }
    }
}

/// One GET with Connection: close; the status code and body.
func httpGet(port: Int, path: String) -> (status: Int, body: String)? {
    guard let connection = LoopbackConnection(port: port),
          connection.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)),
          let response = connection.receive(until: nil) else { return nil }
    let text = String(decoding: response, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n"), let statusText = text.split(separator: " ").dropFirst().first,
          let status = Int(statusText) else { return nil }
    return (status, String(text[split.upperBound...]))
}

enum MemcachedLoad {
    static let keyCount = 10_000
    static let valueBytes = 100

    /// Every key's value is a function of the key, so that each GET's answer can be checked.
    static func value(_ key: Int) -> [UInt8] {
        let stem = Array("value-\(key)-".utf8)
        return (0..<valueBytes).map { stem[$0 % stem.count] }
    }

    static func setRequest(_ key: Int) -> [UInt8] {
        Array("set key:\(key) 0 0 \(valueBytes)\r\n".utf8) + value(key) + Array("\r\n".utf8)
    }

    static func expectedGet(_ key: Int) -> [UInt8] {
        Array("VALUE key:\(key) 0 \(valueBytes)\r\n".utf8) + value(key) + Array("\r\nEND\r\n".utf8)
    }

    /// Stores every key once, so that every GET afterwards must hit.
    static func populate(port: Int) {
        guard let connection = LoopbackConnection(port: port) else { fail("memcached on port \(port) refused a connection") }
        for key in 0..<keyCount {
            guard connection.send(setRequest(key)), connection.receive(until: Array("\r\n".utf8)) == Array("STORED\r\n".utf8) else {
                fail("memcached did not store key:\(key)")
            }
        }
    }

    private struct Totals {
        var operations = 0
        var latencies: [UInt32] = [] // nanoseconds, clamped
        var problems: [String] = []
    }

    /// `connections` threads, each with one request outstanding, 1 SET to 9 GETs on random keys,
    /// for `seconds`. Every answer is checked; a wrong one fails the run.
    static func run(port: Int, connections: Int, seconds: Double) -> Measurement {
        let totals = Mutex(Totals())
        let finished = DispatchSemaphore(value: 0)
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        for index in 0..<connections {
            let thread = Thread {
                var local = Totals()
                defer {
                    let mine = local
                    totals.withLock { $0.operations += mine.operations; $0.latencies += mine.latencies; $0.problems += mine.problems }
                    finished.signal()
                }
                guard let connection = LoopbackConnection(port: port) else { local.problems.append("connect failed"); return }
                local.latencies.reserveCapacity(200_000)
                var random = UInt64(0x9E37_79B9_7F4A_7C15) &* UInt64(index + 1)
                while true {
                    let now = monotonicNanoseconds()
                    guard now < deadline else { break }
                    random ^= random << 13; random ^= random >> 7; random ^= random << 17
                    let key = Int(random % UInt64(keyCount))
                    let isSet = random % 10 == 0
                    let answer: [UInt8]?
                    if isSet {
                        answer = connection.send(setRequest(key)) ? connection.receive(until: Array("\r\n".utf8)) : nil
                    } else {
                        answer = connection.send(Array("get key:\(key)\r\n".utf8)) ? connection.receive(until: Array("END\r\n".utf8)) : nil
                    }
                    let expected = isSet ? Array("STORED\r\n".utf8) : expectedGet(key)
                    guard answer == expected else {
                        local.problems.append("\(isSet ? "set" : "get") key:\(key) answered \(answer.map { String(decoding: $0, as: UTF8.self) } ?? "nothing")")
                        return
                    }
                    local.operations += 1
                    local.latencies.append(UInt32(min(monotonicNanoseconds() - now, UInt64(UInt32.max))))
                }
            }
            thread.start()
        }
        for _ in 0..<connections { finished.wait() }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        let result = totals.withLock { $0 }
        if let problem = result.problems.first { fail("memcached load: \(problem)") }
        let sorted = result.latencies.sorted()
        let p99 = sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1e6
        return Measurement(opsPerSecond: Double(result.operations) / elapsed, p99Milliseconds: p99)
    }
}

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
