import Foundation
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import Testing

/// A leak that doubles the heap within minutes is reported within minutes, at real time: a real
/// agent-linked server, the collector's default verdict configuration and its own verdict loop, no
/// time scale. Only the leak rate and the agent's snapshot interval (1 s) are set; a server beside
/// it with a bounded cache and no leak stays unflagged.
@Suite struct FastLeakRealTimeTests {
    static func startDemoServer(host: String, leak: Bool, port: Int) throws -> Process {
        let process = Process()
        process.executableURL = try BuiltProducts.executable("leakwatch-demo-server")
        process.arguments = (leak ? ["--leak", "--leak-bytes-per-second", "524288"] : []) + ["--seconds", "600"]
        process.environment = [
            "LEAKWATCH_COLLECTOR": "127.0.0.1:\(port)", "LEAKWATCH_TOKEN": String(decoding: testToken, as: UTF8.self),
            "LEAKWATCH_HOST": host, "LEAKWATCH_SERVICE": "demo", "LEAKWATCH_INTERVAL": "1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test(.timeLimit(.minutes(12)))
    func aFastLeakIsSuspectedWithinMinutes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // The defaults, with the verdict loop every 10 s instead of every minute: a pass must not
        // be what the test waits for.
        try await TestCollector.start(dataDirectory: directory.path) { $0.verdictIntervalSeconds = 10 }.use { running in
            let store = running.collector.store
            let leaking = try Self.startDemoServer(host: "fast-1", leak: true, port: running.port)
            let bounded = try Self.startDemoServer(host: "cache-1", leak: false, port: running.port)
            defer {
                leaking.stop(graceSeconds: 0)
                bounded.stop(graceSeconds: 0)
            }
            let started = Date()
            var firstGrowing: Double?
            var firstSuspected: Double?
            var boundedStatuses: Set<String> = []
            let deadline = started.addingTimeInterval(9 * 60)
            while Date() < deadline, firstSuspected == nil {
                try await Task.sleep(for: .seconds(2))
                let elapsed = Date().timeIntervalSince(started)
                if let host = try store.host(named: "fast-1"), let verdict = try store.latestVerdict(hostId: host.id) {
                    if verdict.status == "growing" || verdict.status == "suspectedLeak" { firstGrowing = firstGrowing ?? elapsed }
                    if verdict.status == "suspectedLeak" { firstSuspected = elapsed }
                }
                if let host = try store.host(named: "cache-1"), let verdict = try store.latestVerdict(hostId: host.id) {
                    boundedStatuses.insert(verdict.status)
                }
            }
            let growing = try #require(firstGrowing, "fast-1 never growing within 9 minutes")
            let suspected = try #require(firstSuspected, "fast-1 never a suspected leak within 9 minutes")
            #expect(growing <= 6 * 60, "growing after \(Int(growing)) s")
            #expect(suspected <= 8 * 60, "suspected after \(Int(suspected)) s")
            #expect(boundedStatuses.isDisjoint(with: ["growing", "suspectedLeak"]), "cache-1 was \(boundedStatuses)")
        }
    }
}
