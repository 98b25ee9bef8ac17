import Foundation
import LeakCollectorTestSupport
import LeakTestSupport

/// One GET of the collector's metrics port by curl: a real HTTP client on a real TCP socket.
struct MetricsScrape {
    var status: Int
    var headers: [String: String]
    var body: String

    static func get(_ collector: TestCollector, path: String = "/metrics") async throws -> MetricsScrape {
        guard let server = collector.collector.metricsServer else { throw TestFailure("the collector serves no metrics") }
        let port = try await server.boundAddress().port!
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/curl"), ["--silent", "--show-error", "--include", "http://127.0.0.1:\(port)\(path)"],
            timeoutSeconds: 30)
        guard result.status == 0 else { throw TestFailure("curl failed: \(result.summary)") }
        let parts = result.standardOutput.components(separatedBy: "\r\n\r\n")
        let headLines = parts[0].components(separatedBy: "\r\n")
        let status = Int(headLines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return MetricsScrape(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Every sample, by its series as written (`name{label="value",...}`).
    var samples: [String: Double] {
        var samples: [String: Double] = [:]
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
        return samples
    }

    /// `promtool check metrics` on the body: its output, empty when it found nothing to say.
    func promtoolProblems() async throws -> (status: Int32, output: String) {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let file = scratch.appendingPathComponent("metrics.txt")
        try body.write(to: file, atomically: true, encoding: .utf8)
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "promtool check metrics < '\(file.path)'"], timeoutSeconds: 60)
        return (result.status, (result.standardOutput + result.standardError).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
