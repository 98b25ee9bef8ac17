import Foundation
import LeakCLI
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire

/// A blocking agent for the tests: real TCP, real handshake, real Snapshot frames, waits for Acks.
/// Used by one thread at a time: `@unchecked` so a test can hand it to a `blocking` closure.
final class SeedAgent: @unchecked Sendable {
    let connection: BlockingConnection

    init(port: Int, host: String, service: String, instance: UInt8, pid: UInt32, startNanos: Int64,
         tls: TLSClientContext? = nil) throws {
        var options = BlockingConnection.Options()
        options.tls = tls
        // It bounds only a hang: in a debug collector on a loaded machine a 10,000-site snapshot
        // (ExtremeValuesTests) took 0.9 s alone and more than the default 10 s in a CI run.
        options.ioTimeoutSeconds = 60
        connection = try BlockingConnection.connect(host: "127.0.0.1", port: port, options: options)
        let hello = Wire.Hello(
            role: .agent, hostName: host, serviceName: service,
            processInstanceID: (0..<16).map { UInt8($0) &+ instance &* 17 }, pid: pid, processStartUnixNanos: startNanos,
            agentVersion: "seed", sampleMeanBytes: 512 << 10)
        _ = try connection.handshake(hello: hello, token: testToken)
    }

    func send(_ snapshot: Leakwatch_V1_Snapshot) throws {
        try connection.send(.snapshot(snapshot))
        let reply = try connection.receive()
        guard case .ack(let ack) = reply, ack.sequence == snapshot.sequence else {
            throw TestFailure("expected Ack \(snapshot.sequence), got \(reply)")
        }
    }

    func close() { connection.close() }
}

/// The seeded fleet every golden test reads. Fixed times, deterministic values:
///
/// * `web-3` (checkout): 6 h, a snapshot every 5 min, a restart half way; heap grows
///   20 MiB/h from 180 MiB in each process instance, all of it in `SessionCache.insert(_:)`
///   (type `Checkout.Session`); two steady sites; a threshold warning and a drop event.
/// * `web-1`, `web-2` (checkout): flat and slightly growing; `db-1` (ledger): last seen 2 h
///   before "now", so stale.
/// * Verdicts are written through the storage layer, so golden text does not move when the
///   verdict engine is tuned (ScenarioVerdictTests runs the real engine separately).
enum FleetScenario {
    /// 2026-03-02T12:00:00Z.
    static let now: Int64 = 1_772_452_800 * 1_000_000_000
    static let minute: Int64 = 60_000_000_000
    static let hour: Int64 = 60 * minute
    static let mib: UInt64 = 1 << 20

    /// `staleAfterSeconds` for the collector: hosts silent for 30 min before `now` are stale,
    /// whatever the real clock says (the collector measures staleness on the wall clock).
    static var staleAfterSeconds: Double {
        Date().timeIntervalSince1970 - (Double(now) / 1e9 - 1800)
    }

    static func frame(_ function: String, _ file: String, _ line: UInt32, image: String = "checkout-server",
                      address: UInt64) -> Leakwatch_V1_Frame {
        var frame = Leakwatch_V1_Frame()
        frame.function = function
        frame.file = file
        frame.line = line
        frame.image = image
        frame.address = address
        return frame
    }

    static let sessionStack: [Leakwatch_V1_Frame] = [
        frame("Checkout.Session.__allocating_init(id:cart:)", "/src/Sources/Checkout/Session.swift", 14, address: 0x55a0_0000_1a20),
        frame("Checkout.SessionCache.insert(_:)", "/src/Sources/Checkout/SessionCache.swift", 42, address: 0x55a0_0000_2b44),
        frame("Checkout.CheckoutHandler.handle(_:context:)", "/src/Sources/Checkout/CheckoutHandler.swift", 88, address: 0x55a0_0000_3c10),
        frame("NIOCore.ChannelHandlerContext.fireChannelRead(_:)", "/build/swift-nio/Sources/NIOCore/ChannelPipeline.swift", 1712,
              address: 0x55a0_0010_0400),
    ]
    static let bufferStack: [Leakwatch_V1_Frame] = [
        frame("NIOCore.ByteBufferAllocator.buffer(capacity:)", "/build/swift-nio/Sources/NIOCore/ByteBuffer-core.swift", 221,
              address: 0x55a0_0010_9000),
        frame("Checkout.ResponseWriter.write(_:)", "/src/Sources/Checkout/ResponseWriter.swift", 31, address: 0x55a0_0000_4d00),
    ]
    static let decoderStack: [Leakwatch_V1_Frame] = [
        frame("Foundation.JSONDecoder.decode<A>(_:from:)", "", 0, image: "libFoundation.so", address: 0x7f10_0020_0000),
        frame("Checkout.CartParser.parse(_:)", "/src/Sources/Checkout/CartParser.swift", 19, address: 0x55a0_0000_5e00),
    ]

    struct HostPlan: Sendable {
        var host: String
        var service: String
        var start: Int64
        var end: Int64
        var step: Int64
        var restartAt: Int64?
        var heap: @Sendable (_ hoursInInstance: Double, _ index: Int) -> UInt64
        var sessionBytes: @Sendable (_ hoursInInstance: Double) -> UInt64
        var events: Bool
    }

    static let plans: [HostPlan] = [
        HostPlan(host: "web-3", service: "checkout", start: now - 6 * hour, end: now - minute, step: 5 * minute,
                 restartAt: now - 3 * hour, heap: { h, i in 180 * mib + UInt64(h * 20 * Double(mib)) + UInt64((i * 7) % 5) * mib },
                 sessionBytes: { h in UInt64(h * 20 * Double(mib)) + 2 * mib }, events: true),
        HostPlan(host: "web-1", service: "checkout", start: now - 6 * hour, end: now - 2 * minute, step: 15 * minute,
                 restartAt: nil, heap: { _, i in 150 * mib + UInt64((i * 3) % 4) * mib }, sessionBytes: { _ in 3 * mib }, events: false),
        HostPlan(host: "web-2", service: "checkout", start: now - 6 * hour, end: now - 3 * minute, step: 15 * minute,
                 restartAt: nil, heap: { h, _ in 160 * mib + UInt64(h * 2 * Double(mib)) }, sessionBytes: { _ in 3 * mib }, events: false),
        HostPlan(host: "db-1", service: "ledger", start: now - 8 * hour, end: now - 2 * hour, step: 30 * minute,
                 restartAt: nil, heap: { _, _ in 900 * mib }, sessionBytes: { _ in 1 * mib }, events: false),
    ]

    static func snapshot(plan: HostPlan, sequence: UInt64, time: Int64, instanceStart: Int64, index: Int,
                         defineStacks: Bool) -> Leakwatch_V1_Snapshot {
        let hours = Double(time - instanceStart) / Double(hour)
        let heap = plan.heap(hours, index)
        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.sequence = sequence
        snapshot.timestampUnixNanos = time
        snapshot.stats.currentBytes = heap
        snapshot.stats.peakBytes = heap + 8 * mib
        snapshot.stats.rssBytes = heap + 120 * mib
        snapshot.stats.totalAllocatedBytes = 40 * mib * UInt64(sequence) + heap
        snapshot.stats.allocationCount = 250_000 * sequence + 1000
        snapshot.stats.freeCount = 250_000 * sequence - 37_000
        snapshot.stats.blocksOutstanding = Int64(snapshot.stats.allocationCount) - Int64(snapshot.stats.freeCount)
        snapshot.stats.uptimeSeconds = Double(time - instanceStart) / 1e9

        for (size, count) in [(48, 120_000), (64, 90_000), (1024, 12_000), (4096, 3_000), (32, 150_000)] {
            var exact = Leakwatch_V1_ExactSize()
            exact.size = UInt64(size)
            exact.count = UInt64(count) * sequence
            snapshot.topSizes.append(exact)
        }
        for (bound, count) in [(64, 360_000), (1024, 12_000), (UInt64.max, 3_000)] as [(UInt64, UInt64)] {
            var sizeClass = Leakwatch_V1_SizeClass()
            sizeClass.upperBoundBytes = bound
            sizeClass.count = count * sequence
            sizeClass.bytes = count * sequence * min(bound, 4096) / 2
            snapshot.sizeClasses.append(sizeClass)
        }

        let sites: [(UInt64, [Leakwatch_V1_Frame], UInt64, String?)] = [
            (1, sessionStack, plan.sessionBytes(hours), "Checkout.Session"),
            (2, bufferStack, 32 * mib, nil),
            (3, decoderStack, 4 * mib, nil),
        ]
        for (id, frames, live, type) in sites {
            var site = Leakwatch_V1_Site()
            site.stackID = id
            site.liveBytes = live
            site.liveObjects = live / 512
            site.allocatedBytes = live * 3 + UInt64(sequence) * mib
            if let type { site.typeName = type }
            snapshot.sites.append(site)
            if defineStacks {
                var stack = Leakwatch_V1_Stack()
                stack.id = id
                stack.frames = frames
                snapshot.stacks.append(stack)
            }
        }
        if plan.events && index == 20 {
            var event = Leakwatch_V1_Event()
            event.kind = .thresholdWarning
            event.timestampUnixNanos = time
            event.value = heap
            event.thresholdBytes = 200 * mib
            event.message = "heap above warning threshold"
            snapshot.events.append(event)
        }
        if plan.events && index == 60 {
            var event = Leakwatch_V1_Event()
            event.kind = .snapshotsDropped
            event.timestampUnixNanos = time
            event.droppedCount = 3
            event.message = "spool full while the collector was unreachable"
            snapshot.events.append(event)
        }
        return snapshot
    }

    /// Stats only: no sites, no patterns, no events.
    static func bareSnapshot(sequence: UInt64, time: Int64, heap: UInt64 = 64 << 20) -> Leakwatch_V1_Snapshot {
        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.sequence = sequence
        snapshot.timestampUnixNanos = time
        snapshot.stats.currentBytes = heap
        snapshot.stats.peakBytes = heap
        snapshot.stats.rssBytes = heap * 2
        snapshot.stats.allocationCount = 1000 * sequence
        snapshot.stats.freeCount = 900 * sequence
        snapshot.stats.blocksOutstanding = 100 * Int64(sequence)
        snapshot.stats.uptimeSeconds = 10 * Double(sequence)
        return snapshot
    }

    /// Sends every host's snapshots through the real protocol.
    static func seed(port: Int, plans: [HostPlan] = plans) throws {
        for plan in plans {
            var index = 0
            var instance: UInt8 = 1
            var instanceStart = plan.start
            var agent = try SeedAgent(port: port, host: plan.host, service: plan.service, instance: instance,
                                      pid: 100, startNanos: instanceStart)
            var sequence: UInt64 = 0
            var time = plan.start
            while time <= plan.end {
                if let restart = plan.restartAt, time >= restart, instance == 1 {
                    agent.close()
                    instance = 2
                    instanceStart = restart
                    sequence = 0
                    agent = try SeedAgent(port: port, host: plan.host, service: plan.service, instance: instance,
                                          pid: 200, startNanos: instanceStart)
                }
                sequence += 1
                try agent.send(snapshot(plan: plan, sequence: sequence, time: time, instanceStart: instanceStart,
                                        index: index, defineStacks: sequence == 1))
                index += 1
                time += plan.step
            }
            agent.close()
        }
    }

    /// Writes fixed verdicts through the storage layer (`storeVerdict`).
    static func storeVerdicts(collector: Collector, sessionStackID: UInt64) throws {
        func verdict(_ host: String, _ status: String, rate: Double, since: Int64?, confidence: Double, summary: String,
                     sites: String = "[]") throws {
            guard let record = try collector.store.host(named: host) else { throw TestFailure("no host \(host)") }
            let json: [String: Any?] = [
                "id": nil, "hostId": record.id, "evaluatedAtMs": record.lastSeenMs, "status": status,
                "rateBytesPerHour": rate, "sinceMs": since.map { $0 / 1_000_000 }, "confidence": confidence,
                "summary": summary, "sites": sites,
            ]
            let data = try JSONSerialization.data(withJSONObject: json.mapValues { $0 ?? NSNull() })
            try collector.store.storeVerdict(try JSONDecoder().decode(VerdictRecord.self, from: data))
        }
        let sessionSite = #"[{"stackId":\#(sessionStackID),"status":"suspectedLeak","rateBytesPerHour":20971520,"liveBytes":64000000}]"#
        try verdict("web-3", "suspectedLeak", rate: 20_971_520, since: now - 6 * hour, confidence: 0.97,
                    summary: "floor rises in both process instances; 1 growing site(s)", sites: sessionSite)
        try verdict("web-2", "growing", rate: 2_097_152, since: now - 5 * hour, confidence: 0.62,
                    summary: "slow rise, not yet conclusive; 0 growing site(s)")
        try verdict("web-1", "ok", rate: 0, since: nil, confidence: 0.9, summary: "flat; 0 growing site(s)")
        // db-1: no verdict (too little data): status unknown.
    }

    /// A collector holding the whole scenario, ready for queries.
    static func startSeededCollector() async throws -> TestCollector {
        let stale = staleAfterSeconds
        let running = try await TestCollector.start { $0.staleAfterSeconds = stale }
        do {
            let port = running.port
            let context = running.context()
            let sessionStackID = try await blocking { () -> UInt64 in
                try seed(port: port)
                let client = try CollectorClient(context: context, collectorOption: nil, tokenFileOption: nil)
                defer { client.close() }
                let sites = try client.sites(host: "web-3", sinceUnixNanos: 0).sites
                guard let session = sites.first(where: { $0.frames.contains { $0.function.contains("SessionCache.insert") } })
                else { throw TestFailure("seeded session site not found among \(sites.count) sites") }
                return session.stackID
            }
            try storeVerdicts(collector: running.collector, sessionStackID: sessionStackID)
        } catch {
            try? await running.stop()
            throw error
        }
        return running
    }
}
