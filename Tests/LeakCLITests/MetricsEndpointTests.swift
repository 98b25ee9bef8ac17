import Foundation
import GRDB
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// `metricsListen`: a live collector scraped over HTTP, its text checked by promtool, and every
/// per-host value checked against the store.
@Suite("collector metrics over HTTP")
struct MetricsEndpointTests {
    static func start() async throws -> TestCollector {
        try await TestCollector.start {
            $0.metricsListen = "127.0.0.1:0"
            $0.staleAfterSeconds = 1e12
        }
    }

    static func series(_ name: String, host: HostRecord) -> String {
        "\(name){host=\"\(host.name)\",service=\"\(host.serviceName)\"}"
    }

    @Test("a scrape passes promtool and says what the store holds, host by host")
    func scrapeMatchesStore() async throws {
        try await Self.start().use { collector in
            let port = collector.port
            try await blocking { try FleetScenario.seed(port: port) }
            try collector.collector.maintenance.evaluateVerdicts()
            // The engine finds web-3's six hours too short; a verdict written through the store
            // makes one host suspected, so every status value is read.
            let web3 = try #require(try collector.collector.store.host(named: "web-3"))
            let suspected = try JSONDecoder().decode(VerdictRecord.self, from: Data("""
                {"hostId": \(web3.id), "evaluatedAtMs": \(web3.lastSeenMs + 1), "status": "suspectedLeak",
                 "rateBytesPerHour": 20971520, "confidence": 0.97, "summary": "seeded", "sites": "[]"}
                """.utf8))
            try collector.collector.store.storeVerdict(suspected)
            // One wrong token: an authentication failure and a rejected frame.
            try await blocking {
                let connection = try BlockingConnection.connect(host: "127.0.0.1", port: port)
                defer { connection.close() }
                let hello = Wire.Hello(role: .agent, hostName: "intruder", serviceName: "x", processInstanceID: Array(repeating: 9, count: 16),
                                       pid: 1, processStartUnixNanos: FleetScenario.now, agentVersion: "test", sampleMeanBytes: 1)
                #expect(throws: (any Error).self) { _ = try connection.handshake(hello: hello, token: Array("wrong-token".utf8)) }
            }
            // An open connection while the scrape runs.
            let agent = try await blocking {
                try SeedAgent(port: port, host: "web-1", service: "checkout", instance: 7, pid: 1, startNanos: FleetScenario.now)
            }
            defer { agent.close() }

            let scrape = try await MetricsScrape.get(collector)
            #expect(scrape.status == 200)
            #expect(scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let promtool = try await scrape.promtoolProblems()
            #expect(promtool.status == 0 && promtool.output.isEmpty, "promtool check metrics: \(promtool.output)")

            let samples = scrape.samples
            let store = collector.collector.sqliteStore
            let hosts = try store.hosts()
            let verdicts = try store.latestVerdicts()
            let newest = try store.latestSamples()
            #expect(hosts.count == 4)
            let statusValues = ["ok": 0.0, "growing": 1, "suspectedLeak": 2, "notEnoughData": -1]
            for host in hosts {
                #expect(samples[Self.series("leakwatch_host_last_seen_timestamp_seconds", host: host)] == Double(host.lastSeenMs) / 1000)
                #expect(samples[Self.series("leakwatch_host_heap_bytes", host: host)] == newest[host.id].map { Double($0.bytesInUse) })
                let verdict = try #require(verdicts[host.id])
                #expect(samples[Self.series("leakwatch_host_status", host: host)] == statusValues[verdict.status], "\(host.name)")
                #expect(samples[Self.series("leakwatch_host_leak_rate_bytes_per_hour", host: host)] == verdict.rateBytesPerHour)
            }
            #expect(samples.keys.filter { $0.hasPrefix("leakwatch_host_status{") }.count == hosts.count)
            #expect(samples[Self.series("leakwatch_host_status", host: web3)] == 2)
            #expect(samples[Self.series("leakwatch_host_leak_rate_bytes_per_hour", host: web3)] == 20_971_520)

            let storedSnapshots = try store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sample") ?? 0 }
            #expect(samples["leakwatch_ingested_snapshots_total"] == Double(storedSnapshots))
            #expect((samples["leakwatch_ingested_bytes_total"] ?? 0) > Double(storedSnapshots) * 100)
            #expect(samples["leakwatch_authentication_failures_total"] == 1)
            #expect(samples["leakwatch_rejected_frames_total{code=\"authentication_failed\"}"] == 1)
            #expect((samples["leakwatch_open_connections"] ?? 0) >= 1)
            #expect((samples["leakwatch_commit_duration_seconds_count"] ?? 0) >= 1)
            #expect(samples["leakwatch_verdict_pass_duration_seconds_count"] == 1)
            #expect((samples["leakwatch_database_size_bytes"] ?? 0) > 0)
            #expect(samples["leakwatch_verdict_loop_lag_seconds"] == 0)
        }
    }

    @Test("a host retired from the store leaves the metrics")
    func retiredHostLeaves() async throws {
        try await Self.start().use { collector in
            let port = collector.port
            try await blocking { try FleetScenario.seed(port: port) }
            let before = try await MetricsScrape.get(collector).samples
            #expect(before.keys.filter { $0.hasPrefix("leakwatch_host_last_seen_timestamp_seconds{") }.count == 4)

            // Far past every retention: the rows, then the hosts, are deleted.
            let farFuture = Int64(Date().timeIntervalSince1970 * 1000) + 1000 * 86_400_000
            _ = try collector.collector.store.applyRetention(nowMs: farFuture)
            #expect(try collector.collector.store.hosts().isEmpty)
            let after = try await MetricsScrape.get(collector)
            #expect(after.samples.keys.filter { $0.hasPrefix("leakwatch_host_") }.isEmpty, "\(after.body)")
            #expect(after.samples["leakwatch_ingested_snapshots_total"] == before["leakwatch_ingested_snapshots_total"])
        }
    }

    @Test("only GET /metrics is served")
    func otherPaths() async throws {
        try await Self.start().use { collector in
            let root = try await MetricsScrape.get(collector, path: "/")
            #expect(root.status == 404)
            let withQuery = try await MetricsScrape.get(collector, path: "/metrics?x=1")
            #expect(withQuery.status == 200)
        }
    }

    @Test("a metrics port it cannot bind stops the collector gracefully, saying why")
    func metricsPortTaken() async throws {
        let taken = try closedPort()
        let collector = try await TestCollector.start { $0.metricsListen = "127.0.0.1:\(taken)" }
        let failure = await #expect(throws: ConfigurationError.self) { _ = try await collector.collector.metricsServer?.boundAddress() }
        #expect(failure?.description.contains("cannot serve metrics on 127.0.0.1:\(taken) (metricsListen)") == true)
        #expect(await waitUntil(seconds: 20) { collector.logs.contains("collector stopped") }, "\(collector.logs.all)")
        await #expect(throws: ConfigurationError.self) { try await collector.stop() }
    }
}
