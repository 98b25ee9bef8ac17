import Foundation
import LeakCollector

#if canImport(Glibc)
import Glibc
#endif

/// The ingest benchmark without and with the metrics endpoint, side by side: `--metrics-rounds`
/// rounds of one plain run and one with `--metrics-listen` and a Prometheus-like scraper fetching
/// /metrics every second, the order alternating from round to round so that a machine getting
/// busier or quieter during the runs does not favour one side.
func runMetricsCost() throws {
    var plain: [IngestRun] = []
    var scraped: [IngestRun] = []
    for round in 0..<options.metricsRounds {
        for metrics in round % 2 == 0 ? [false, true] : [true, false] {
            print("round \(round + 1) of \(options.metricsRounds):")
            let run = try runIngest(metrics: metrics)
            if metrics { scraped.append(run) } else { plain.append(run) }
        }
    }
    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    func column(_ runs: [IngestRun], _ value: (IngestRun) -> Double, _ digits: Int) -> String {
        let values = runs.map(value)
        return "\(format(median(values), digits)) (\(format(values.min() ?? .nan, digits))–\(format(values.max() ?? .nan, digits)))"
    }
    print("")
    print("metrics cost, \(options.metricsRounds) rounds, median (range):")
    print("  measurement                                without metrics           with --metrics-listen, scraped every 1 s")
    let rows: [(String, (IngestRun) -> Double, Int)] = [
        ("throughput, snapshots/s", { $0.snapshotsPerSecond }, 0),
        ("collector CPU s per 100,000 snapshots", { $0.collectorCPUSecondsPer100k }, 2),
        ("collector max RSS, MiB", { Double($0.maxRSSBytes) / 1_048_576 }, 1),
    ]
    for (name, value, digits) in rows {
        print("  \(name.padding(toLength: 43, withPad: " ", startingAt: 0))\(column(plain, value, digits).padding(toLength: 26, withPad: " ", startingAt: 0))\(column(scraped, value, digits))")
    }
    let scrapes = scraped.compactMap(\.scrapes)
    print("  scrapes: \(scrapes.map(\.succeeded).reduce(0, +)) answered, \(scrapes.map(\.failed).reduce(0, +)) failed; "
        + "latency p50 \(format(median(scrapes.map(\.p50Milliseconds)), 1)) ms (median of runs), "
        + "max \(format(scrapes.map(\.maxMilliseconds).max() ?? .nan, 1)) ms")
}

/// What a scraper saw over one run.
struct ScrapeSummary {
    var succeeded: Int
    var failed: Int
    var p50Milliseconds: Double
    var maxMilliseconds: Double
    /// Of the last answer.
    var bodyBytes: Int
}

/// Fetches `GET /metrics` every second on a thread of its own, as Prometheus would (one fresh
/// HTTP/1.1 connection per scrape, `Connection: close`), until `stop()`.
final class MetricsScraper: @unchecked Sendable {
    private let port: Int
    private let stopped = Locked(false)
    private let results = Locked((latencies: [Double](), failed: 0, bodyBytes: 0))
    private let done = DispatchSemaphore(value: 0)

    init(port: Int) {
        self.port = port
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            while !stopped.withLock({ $0 }) {
                let started = DispatchTime.now().uptimeNanoseconds
                let answer = scrape()
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
                results.withLock { results in
                    if let answer, answer.starts(with: Array("HTTP/1.1 200".utf8)) {
                        results.latencies.append(milliseconds)
                        results.bodyBytes = answer.count
                    } else {
                        results.failed += 1
                    }
                }
                // Every second from the start of the last scrape, in slices so that stop() is prompt.
                let next = started + 1_000_000_000
                while !stopped.withLock({ $0 }) && DispatchTime.now().uptimeNanoseconds < next { usleep(20_000) }
            }
        }
    }

    func stop() -> ScrapeSummary {
        stopped.withLock { $0 = true }
        done.wait()
        return results.withLock { results in
            let sorted = results.latencies.sorted()
            return ScrapeSummary(succeeded: sorted.count, failed: results.failed,
                                 p50Milliseconds: sorted.isEmpty ? .nan : sorted[sorted.count / 2],
                                 maxMilliseconds: sorted.last ?? .nan, bodyBytes: results.bodyBytes)
        }
    }

    /// The whole answer (status line, headers and body), nil when the connection failed.
    private func scrape() -> [UInt8]? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 { return nil }
            if count == 0 { return answer }
            answer += buffer[0..<count]
        }
    }
}
