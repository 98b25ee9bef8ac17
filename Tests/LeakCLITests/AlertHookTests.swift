import Foundation
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// `alertCommand`: a real collector, a replay that turns a host from ok to suspected-leak through
/// the collector's own verdict engine, and the hook's stdin as it wrote it to a file.
@Suite("the alert hook")
struct AlertHookTests {
    static let mib = FleetScenario.mib
    static let hour = FleetScenario.hour

    /// 12 h flat at 200 MiB, then the session cache grows 30 MiB/h.
    static let plan = FleetScenario.HostPlan(
        host: "leaky-1", service: "checkout", start: FleetScenario.now - 24 * hour, end: FleetScenario.now,
        step: 2 * FleetScenario.minute, restartAt: nil,
        heap: { h, i in 200 * mib + UInt64(max(0, h - 12) * 30 * Double(mib)) + UInt64((i * 7) % 5) * mib },
        sessionBytes: { h in UInt64(max(0, h - 12) * 30 * Double(mib)) + 3 * mib }, events: false)

    /// `plan` for 36 h, and from hour 24 the response buffers (stack 2) leak 30 MiB/h too: the host is
    /// a suspected leak already when a second site turns into one.
    static let twoLeaks = FleetScenario.HostPlan(
        host: "leaky-2", service: "checkout", start: FleetScenario.now - 36 * hour, end: FleetScenario.now,
        step: 2 * FleetScenario.minute, restartAt: nil,
        heap: { h, i in plan.heap(h, i) + bufferGrowth(h) }, sessionBytes: plan.sessionBytes, events: false)

    static func bufferGrowth(_ hours: Double) -> UInt64 { UInt64(max(0, hours - 24) * 30 * Double(mib)) }

    /// Sends the plan's snapshots from `from` to before `to` on one connection, sequence numbers going on.
    static func replay(_ agent: SeedAgent, plan: FleetScenario.HostPlan = plan, from: Int64, to: Int64,
                       sequence: inout UInt64) throws {
        var time = from
        while time < to {
            sequence += 1
            let index = Int((time - plan.start) / plan.step)
            var snapshot = FleetScenario.snapshot(plan: plan, sequence: sequence, time: time, instanceStart: plan.start,
                                                  index: index, defineStacks: sequence == 1)
            if plan.host == twoLeaks.host {
                let buffers = 32 * mib + bufferGrowth(Double(time - plan.start) / Double(hour))
                snapshot.sites[1].liveBytes = buffers
                snapshot.sites[1].liveObjects = buffers / 512
            }
            try agent.send(snapshot)
            time += plan.step
        }
    }

    /// The hook's documents in `directory` (one file per run), oldest first.
    static func documents(_ directory: TemporaryDirectory) throws -> [[String: Any]] {
        let files = try FileManager.default.contentsOfDirectory(at: directory.url, includingPropertiesForKeys: [.contentModificationDateKey])
            .filter { $0.lastPathComponent.hasPrefix("alert-") }
            .sorted {
                let dates = try [$0, $1].map { try $0.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate ?? .distantPast }
                return dates[0] < dates[1]
            }
        return try files.map { file in
            guard let document = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any] else {
                throw TestFailure("\(file.lastPathComponent) is no JSON object")
            }
            return document
        }
    }

    /// A hook script in `directory` with `body` as its shell code.
    static func hook(_ directory: TemporaryDirectory, _ body: String) throws -> String {
        let path = directory.appendingPathComponent("hook.sh").path
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// The replay's two halves with a verdict pass after each: the host's status after each.
    static func okThenLeak(_ collector: TestCollector, afterFlat: () async throws -> Void = {}) async throws -> (String, String) {
        let port = collector.port
        let agent = try await blocking {
            try SeedAgent(port: port, host: plan.host, service: plan.service, instance: 1, pid: 100, startNanos: plan.start)
        }
        defer { agent.close() }
        let middle = plan.start + 12 * hour
        let sequence = try await blocking {
            var sequence: UInt64 = 0
            try replay(agent, from: plan.start, to: middle, sequence: &sequence)
            return sequence
        }
        try collector.collector.maintenance.evaluateVerdicts()
        let host = try #require(try collector.collector.store.host(named: plan.host))
        let first = try collector.collector.store.latestVerdict(hostId: host.id)?.status ?? "none"
        try await afterFlat()
        try await blocking {
            var next = sequence
            try replay(agent, from: middle, to: plan.end, sequence: &next)
        }
        try collector.collector.maintenance.evaluateVerdicts()
        let second = try collector.collector.store.latestVerdict(hostId: host.id)?.status ?? "none"
        return (first, second)
    }

    @Test("ok to suspected-leak runs the hook once with the change, its sites and a report command")
    func statusChange() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let hook = try Self.hook(scratch, "cat > \"\(scratch.path)/alert-$$.json\"")
        try await TestCollector.start { $0.alerts.command = hook; $0.staleAfterSeconds = 1e12 }.use { collector in
            let (before, after) = try await Self.okThenLeak(collector) {
                // The flat half's `ok` is no change: nothing ran.
                try await Task.sleep(for: .milliseconds(300))
                #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("alert-") }.isEmpty)
            }
            #expect(before == "ok")
            #expect(after == "suspectedLeak")
            let written = await waitUntil(seconds: 20) {
                (try? FileManager.default.contentsOfDirectory(atPath: scratch.path).contains { $0.hasPrefix("alert-") }) == true
                    && collector.logs.contains("alert hook ran")
            }
            #expect(written, "\(collector.logs.all.joined(separator: "\n"))")
            let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("alert-") }
            #expect(files.count == 1)
            let data = try Data(contentsOf: scratch.appendingPathComponent(try #require(files.first)))
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(document["kind"] as? String == "status-change")
            #expect(document["host"] as? String == "leaky-1")
            #expect(document["service"] as? String == "checkout")
            #expect(document["oldStatus"] as? String == "ok")
            #expect(document["newStatus"] as? String == "suspected-leak")
            let rate = try #require(document["rateBytesPerHour"] as? Double)
            #expect(Double(20 << 20)...Double(40 << 20) ~= rate, "rate \(rate) B/h, replayed 30 MiB/h")
            #expect((document["confidence"] as? Double).map { $0 > 0 } == true)
            #expect(document["since"] is String)
            #expect(document["reportCommand"] as? String == "collector-cli report --host 'leaky-1'")
            let sites = try #require(document["sites"] as? [[String: Any]])
            let first = try #require(sites.first)
            #expect(first["typeName"] as? String == "Checkout.Session")
            let frames = (first["topFrames"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
            #expect(frames.contains("Checkout.SessionCache.insert(_:)"), "\(frames)")
            // The site that turned the host is a change of its own, in the same run.
            let siteChanges = try #require(document["siteChanges"] as? [[String: Any]])
            #expect(siteChanges.count == 1, "\(siteChanges)")
            #expect(siteChanges.first?["oldStatus"] as? String == "ok")
            #expect(siteChanges.first?["newStatus"] as? String == "suspected-leak")
            #expect(siteChanges.first?["stackId"] as? Int == first["stackId"] as? Int)

            // The command line it hands over works.
            let report = try await collector.run(["report", "--host", "leaky-1"])
            #expect(report.exitCode == 0)
            #expect(report.text.hasPrefix("leaky-1  SUSPECTED LEAK"), "\(report.text.prefix(200))")
        }
    }

    @Test("a second site turning into a leak runs the hook with that site alone, the host's status unchanged")
    func siteStatusChange() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let hook = try Self.hook(scratch, "cat > \"\(scratch.path)/alert-$$.json\"")
        try await TestCollector.start { $0.alerts.command = hook; $0.staleAfterSeconds = 1e12 }.use { collector in
            let port = collector.port
            let plan = Self.twoLeaks
            let agent = try await blocking {
                try SeedAgent(port: port, host: plan.host, service: plan.service, instance: 2, pid: 100, startNanos: plan.start)
            }
            defer { agent.close() }
            let store = collector.collector.store
            let host = { try #require(try store.host(named: plan.host)) }
            var sequence: UInt64 = 0
            // 24 h: the session cache leaks from hour 12, the host turns (one run, as in statusChange).
            sequence = try await blocking { [sequence] in
                var next = sequence
                try Self.replay(agent, plan: plan, from: plan.start, to: plan.start + 24 * Self.hour, sequence: &next)
                return next
            }
            try collector.collector.maintenance.evaluateVerdicts()
            #expect(try store.latestVerdict(hostId: try host().id)?.status == "suspectedLeak")
            let runs = { collector.logs.all.filter { $0.contains("alert hook ran") }.count }
            #expect(await waitUntil(seconds: 20) { runs() == 1 })

            // 12 h more: the response buffers leak too. The host stays a suspected leak.
            try await blocking { [sequence] in
                var next = sequence
                try Self.replay(agent, plan: plan, from: plan.start + 24 * Self.hour, to: plan.end, sequence: &next)
            }
            try collector.collector.maintenance.evaluateVerdicts()
            let verdict = try #require(try store.latestVerdict(hostId: try host().id))
            #expect(verdict.status == "suspectedLeak")
            #expect(await waitUntil(seconds: 20) { runs() == 2 }, "\(collector.logs.all.joined(separator: "\n"))")
            #expect(try Self.documents(scratch).count == 2)
            let document = try #require(try Self.documents(scratch).last)
            #expect(document["kind"] as? String == "status-change")
            #expect(document["oldStatus"] as? String == "suspected-leak" && document["newStatus"] as? String == "suspected-leak")
            let changes = try #require(document["siteChanges"] as? [[String: Any]])
            let buffers = try #require(changes.first { change in
                (change["topFrames"] as? [[String: Any]] ?? []).contains { $0["function"] as? String == "Checkout.ResponseWriter.write(_:)" }
            }, "\(changes)")
            #expect(buffers["oldStatus"] as? String == "ok")
            #expect(["growing", "suspected-leak"].contains(buffers["newStatus"] as? String ?? ""), "\(buffers)")
            let rate = try #require(buffers["rateBytesPerHour"] as? Double)
            #expect(Double(20 << 20)...Double(40 << 20) ~= rate, "rate \(rate) B/h, replayed 30 MiB/h")
            // The site the verdict names with that status is the one the document says changed.
            let named = verdict.decodedSites.first { $0.stackId == (buffers["stackId"] as? Int).map(Int64.init) }
            #expect(named != nil, "\(verdict.sites)")
        }
    }

    @Test("a hook that hangs is killed at its timeout, and ingest goes on meanwhile")
    func hangingHook() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let hook = try Self.hook(scratch, "exec sleep 30")
        try await TestCollector.start {
            $0.alerts.command = hook
            $0.alerts.timeoutSeconds = 10
            $0.staleAfterSeconds = 1e12
        }.use { collector in
            let (_, after) = try await Self.okThenLeak(collector)
            #expect(after == "suspectedLeak")
            // The hook now hangs: another host's snapshots are acked all the same, before the hook's
            // timeout ends it (no wall-clock bound of our own: the full suite on 2 cores took 2.7 s
            // for the 50 where 1.5 s was asked).
            let port = collector.port
            try await blocking {
                let agent = try SeedAgent(port: port, host: "steady-1", service: "checkout", instance: 3, pid: 1, startNanos: FleetScenario.now)
                defer { agent.close() }
                for sequence in 1...50 as ClosedRange<UInt64> {
                    try agent.send(FleetScenario.bareSnapshot(sequence: sequence, time: FleetScenario.now + Int64(sequence) * 1_000_000_000))
                }
            }
            #expect(!collector.logs.contains("alert hook timed out and was killed"), "ingest waited for the hanging hook")
            #expect(collector.collector.alertHook?.queuedCount == 0)
            #expect(await waitUntil(seconds: 30) { collector.logs.contains("alert hook timed out and was killed") })
        }
    }

    @Test("a hook that fails is logged with its exit status and stderr")
    func failingHook() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let hook = try Self.hook(scratch, "cat > /dev/null; echo 'webhook answered 500' >&2; exit 3")
        try await TestCollector.start { $0.alerts.command = hook; $0.metricsListen = "127.0.0.1:0"; $0.staleAfterSeconds = 1e12 }.use { collector in
            _ = try await Self.okThenLeak(collector)
            #expect(await waitUntil(seconds: 10) { collector.logs.contains("alert hook failed") })
            let line = collector.logs.all.first { $0.contains("alert hook failed") } ?? ""
            #expect(line.contains("webhook answered 500") && line.contains("3"), "\(line)")
            let samples = try await MetricsScrape.get(collector).samples
            #expect(samples["leakwatch_alert_hook_runs_total{result=\"failed\"}"] == 1)
        }
    }

    @Test("a snapshot with memory errors runs the hook once with their kinds and allocation frames")
    func memoryErrors() async throws {
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let hook = try Self.hook(scratch, "cat > \"\(scratch.path)/alert-$$.json\"")
        try await TestCollector.start { $0.alerts.command = hook; $0.staleAfterSeconds = 1e12 }.use { collector in
            let port = collector.port
            try await blocking {
                let agent = try SeedAgent(port: port, host: "web-9", service: "checkout", instance: 4, pid: 1, startNanos: Self.plan.start)
                defer { agent.close() }
                var snapshot = FleetScenario.snapshot(plan: Self.plan, sequence: 1, time: Self.plan.start + Self.hour, instanceStart: Self.plan.start,
                                                      index: 0, defineStacks: true)
                for (offset, kind) in [(0, Leakwatch_V1_MemoryErrorKind.heapBufferOverflow), (1, .heapUseAfterFree)] {
                    var event = Leakwatch_V1_Event()
                    event.kind = .memoryError
                    event.timestampUnixNanos = Self.plan.start + Self.hour - Int64(offset) * 1_000_000_000
                    event.memoryErrorKind = kind
                    event.access = .write
                    event.blockSizeBytes = 48
                    event.blockOffset = 48
                    event.allocationStackID = 1
                    event.accessStackID = 2
                    snapshot.events.append(event)
                }
                try agent.send(snapshot)
            }
            #expect(await waitUntil(seconds: 20) { collector.logs.contains("alert hook ran") })
            let files = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("alert-") }
            #expect(files.count == 1)
            let data = try Data(contentsOf: scratch.appendingPathComponent(try #require(files.first)))
            let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(document["kind"] as? String == "memory-error")
            #expect(document["host"] as? String == "web-9")
            #expect(document["oldStatus"] as? String == "not-enough-data" && document["newStatus"] as? String == "not-enough-data")
            let errors = try #require(document["memoryErrors"] as? [[String: Any]])
            #expect(errors.compactMap { $0["kind"] as? String } == ["heapBufferOverflow", "heapUseAfterFree"])
            let allocation = (errors.first?["allocationFrames"] as? [[String: Any]] ?? []).compactMap { $0["function"] as? String }
            #expect(allocation.contains("Checkout.SessionCache.insert(_:)"), "\(allocation)")
            #expect(document["reportCommand"] as? String == "collector-cli report --host 'web-9'")
        }
    }
}
