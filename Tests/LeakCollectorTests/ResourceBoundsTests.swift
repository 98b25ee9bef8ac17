import Foundation
import GRDB
@testable import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// Issue 15, item 3: the table's attacks against a live `collector` process, whose memory is
/// read from /proc, while a good agent keeps measuring its snapshot → ack round trip.
@Suite(.serialized) struct ResourceBoundsTests {
    static let mebibyte = 1 << 20

    /// What a collector may use under the partial-frame flood beyond its resident size before it:
    /// the budget, plus one read batch per attacking connection (a connection holding nothing
    /// may read before it parks), plus what 100 connections cost besides their frames. The
    /// figures are in docs/OPERATIONS.md, "Limits and misbehaving peers".
    static func floodAllowance(budgetBytes: Int, connections: Int) -> Int {
        budgetBytes + connections * (256 << 10) + 16 * mebibyte
    }

    @Test(.timeLimit(.minutes(4))) func partialFrameFloodStaysWithinTheBudgetAndGoodAgentsAreServed() async throws {
        let budget = 16 * Self.mebibyte
        let attackers = 100
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = try Self.writeToken(in: directory)
        let child = try await CollectorProcess(dataDirectory: directory.path, tokenFile: tokenFile, configuration: [
            "inboundBufferBudgetBytes": budget, "idleTimeoutSeconds": 120, "metricsListen": "127.0.0.1:0",
        ])
        defer { child.process.stop(graceSeconds: 0) }

        let probe = GoodAgentProbe(port: child.port)
        defer { probe.stop() }
        let stalls = SchedulingStallProbe(startedAt: probe.startedAt)
        defer { stalls.stop() }
        try #require(await waitUntil(seconds: 60) { probe.roundTrips.count >= 20 || probe.failure != nil },
                     "the good agent was not served: \(probe.failure ?? "")\n\(child.logTail())")
        let base = try #require(child.residentBytes()).now
        let beforeAttack = probe.roundTrips.count

        // 100 authenticated agents, each announcing a 2 MiB snapshot and sending all but its last byte.
        print("partial-frame flood: attack starts at +\(String(format: "%.2f", probe.elapsedSeconds)) s")
        let attack = PartialFrameAttack(port: child.port, connections: attackers, bodyBytes: 2 * Self.mebibyte)
        defer { attack.stop() }
        #expect(await waitUntil(seconds: 90) { attack.authenticated + attack.failures.count == attackers })
        #expect(attack.failures.isEmpty, "\(attack.failures.prefix(3))")
        // Until no attacker gets further (the collector has parked them) or all sent everything.
        _ = await waitUntil(seconds: 90) { attack.isSettled(quietSeconds: 2) }
        // The attack in place, the good agent keeps shipping for three more seconds.
        let settled = probe.roundTrips.count
        _ = await waitUntil(seconds: 60) { probe.roundTrips.count >= settled + 30 && attack.quietSeconds >= 3 }

        let memory = try #require(child.residentBytes())
        let allowance = Self.floodAllowance(budgetBytes: budget, connections: attackers)
        let attempted = attack.bytesSent
        let during = Array(probe.roundTrips[beforeAttack...])
        // Each slow round trip beside the longest time, within it, that a thread of this process
        // asking for 2 ms of sleep was not run: the machine's part of the wait, not the collector's.
        // And split by the collector's receipt time (stored with the snapshot, read on the event
        // loop as it decodes the frame): before it, the frame waited to be read; after it, for the
        // commit and the Ack.
        let receivedAtMs = Self.receivedAtMs(database: directory.path + "/leakwatch.sqlite", instance: probe.instance)
        let sentAtMs = probe.sentAtMs
        let slow = probe.timeline.indices.filter { $0 >= beforeAttack && probe.timeline[$0].seconds > 0.050 }.map { index in
            let trip = probe.timeline[index]
            let read = receivedAtMs[UInt64(index + 1)].map { String(format: ", read after %.0f ms", $0 - sentAtMs[index]) } ?? ""
            return String(format: "%.0f ms at +%.2f s (machine stalled %.0f ms%@)", trip.seconds * 1000, trip.at,
                          stalls.longestStall(from: trip.at, seconds: trip.seconds) * 1000, read)
        }
        // The collector's commits by duration, cumulative ("≤ 0.005 s: 89").
        let commits = ((try? await child.metricsSamples()) ?? [:]).compactMap { sample -> (bound: Double, count: Int)? in
            guard sample.key.hasPrefix("leakwatch_commit_duration_seconds_bucket"),
                  let bound = sample.key.split(separator: "\"").dropFirst().first.flatMap({ Double($0) }) else { return nil }
            return (bound, Int(sample.value))
        }.sorted { $0.bound < $1.bound }.map { "≤ \($0.bound) s: \($0.count)" }
        let newcomers = probe.newcomerRoundTrips
        let summary = """
            base \(base / Self.mebibyte) MiB, peak \(memory.peak / Self.mebibyte) MiB, now \(memory.now / Self.mebibyte) MiB; \
            budget \(budget / Self.mebibyte) MiB, allowance \(allowance / Self.mebibyte) MiB; attackers sent \
            \(attempted / Self.mebibyte) MiB; good agent round trips during the attack \(Latencies(during)); \
            newcomers (connect, handshake, snapshot, ack) \(Latencies(newcomers)); over 50 ms: \(slow); \
            machine stalls over 20 ms: \(stalls.stalls(over: 0.020)); \
            collector commits by duration (cumulative): \(commits)
            """
        print("partial-frame flood: \(summary)")
        #expect(probe.failure == nil, "\(probe.failure ?? "")")
        #expect(attempted >= attackers * Self.mebibyte, "the attack did not get going: \(summary)")
        #expect(memory.peak <= base + allowance, "the collector grew past the budget: \(summary)\n\(child.logTail())")
        #expect(during.count >= 30)
        // Served throughout: every snapshot acked (probe.failure above), the typical round trip far
        // inside 50 ms. The bound on every round trip is a latency target, proven where latency can
        // be measured: `IngestBenchmark --attack-rounds N` (release, docs/PERFORMANCE.md, "A good
        // agent under attack") puts the same flood against a release collector from one attacker
        // thread and measures 0 round trips over 50 ms. Here, a debug collector shares two cores with
        // 100 attacker threads and the other suites, and single round trips reached 80–400 ms when
        // this process started its attackers (57 runs' split: the wait came before the collector read
        // the frame, never in a commit) — the machine's burst, which this test cannot tell apart.
        #expect(Latencies(during).quantile(0.5) <= 0.050, "\(summary)")

        // Once the attackers go, their bytes are released and the collector serves on.
        attack.stop()
        let afterwards = probe.roundTrips.count
        #expect(await waitUntil(seconds: 30) { probe.roundTrips.count >= afterwards + 10 })
        #expect(probe.failure == nil)
    }

    /// The budget's ledger alone: who parks, who is woken, and that closing releases.
    @Test func ledgerParksHoldersWhileOverTheLimitAndWakesThemWhenThereIsRoom() {
        var ledger = InboundByteLedger<String>(limitBytes: 100)
        var woken = ledger.setHeld(60, by: 1) + ledger.setHeld(60, by: 2)
        #expect(woken.isEmpty && ledger.totalBytes == 120)
        var mayRead = ledger.mayRead(1, waker: "one")
        #expect(!mayRead, "holds part of a frame while over the limit")
        mayRead = ledger.mayRead(2, waker: "two")
        #expect(!mayRead)
        mayRead = ledger.mayRead(3, waker: "three")
        #expect(mayRead, "a connection holding nothing always reads")
        #expect(ledger.parkedCount == 2)
        woken = ledger.setHeld(50, by: 1)
        #expect(woken.isEmpty, "110 is still over the limit")
        woken = ledger.setHeld(0, by: 1)
        #expect(Set(woken) == ["one", "two"], "room again: every parked connection is woken")
        #expect(ledger.parkedCount == 0)
        woken = ledger.setHeld(200, by: 2)
        mayRead = ledger.mayRead(2, waker: "two")
        #expect(woken.isEmpty && !mayRead)
        woken = ledger.remove(2)
        #expect(woken.isEmpty, "the closed connection itself is not woken")
        #expect(ledger.totalBytes == 0 && ledger.parkedCount == 0, "nothing left over")
    }

    @Test(.timeLimit(.minutes(2))) func authenticatedDribblerIsClosedAfterTheIdleTimeout() async throws {
        let idleSeconds = 2.0
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = try Self.writeToken(in: directory)
        let child = try await CollectorProcess(dataDirectory: directory.path, tokenFile: tokenFile,
                                               configuration: ["idleTimeoutSeconds": idleSeconds])
        defer { child.process.stop(graceSeconds: 0) }
        let port = child.port

        // A good agent shipping every 0.5 s lives through three timeouts...
        let probe = GoodAgentProbe(port: port, intervalSeconds: 0.5, newcomerEvery: 0)
        defer { probe.stop() }
        // ...while the dribbler, one byte every 0.25 s (the table's 1 byte / 5 s against a 120 s
        // timeout, scaled down), is cut off: bytes that never finish a frame are no progress.
        let (closedAfter, bytesDribbled) = try await blocking { () -> (Double, Int) in
            let agent = try TestAgent(port: port, hostName: "dribbler")
            let connection = agent.connection
            try connection.send(frameBytes: FrameHeader(kind: .snapshot, flags: [], bodyLength: 1000).bytes)
            let start = ContinuousClock.now
            var sent = 0
            while ContinuousClock.now - start < .seconds(idleSeconds * 10) {
                do {
                    if try connection.receive(timeoutSeconds: 0.25) != nil { break }
                    try connection.send(frameBytes: [0x0A])
                    sent += 1
                } catch {
                    break
                }
            }
            return ((ContinuousClock.now - start) / .seconds(1), sent)
        }
        #expect(closedAfter >= idleSeconds * 0.9, "closed after \(closedAfter) s, before the timeout")
        #expect(closedAfter < idleSeconds * 10, "the dribbler was still connected after \(closedAfter) s")
        #expect(bytesDribbled >= 2, "the dribbler sent only \(bytesDribbled) bytes")
        #expect(await waitUntil(seconds: 10) { child.log.contains("closing idle connection") }, "\(child.logTail())")

        // The good agent kept its connection through it all.
        _ = await waitUntil(seconds: 30) { probe.elapsedSeconds >= idleSeconds * 3 }
        #expect(probe.failure == nil, "\(probe.failure ?? "")")
        #expect(probe.connections == 1, "the good agent had to reconnect")
        print("dribbler closed after \(closedAfter) s (idle timeout \(idleSeconds) s, \(bytesDribbled) bytes); good agent \(Latencies(probe.roundTrips))")
    }

    @Test(.timeLimit(.minutes(2))) func connectionBeyondTheMaximumIsRefusedAndOthersAreServed() async throws {
        let maximum = 3
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = try Self.writeToken(in: directory)
        let child = try await CollectorProcess(dataDirectory: directory.path, tokenFile: tokenFile,
                                               configuration: ["maximumConnections": maximum])
        defer { child.process.stop(graceSeconds: 0) }
        let port = child.port

        let agents = try await blocking {
            try (0..<maximum).map { try TestAgent(port: port, hostName: "capped-\($0)") }
        }
        let refusal = try await blocking { () -> Leakwatch_V1_Error? in
            let connection = try BlockingConnection.connect(host: "127.0.0.1", port: port)
            guard case .error(let error) = try connection.receive() else { return nil }
            return error
        }
        #expect(refusal?.code == .internal)
        #expect(refusal?.message.contains("limit of \(maximum) connections") == true, "\(refusal?.message ?? "no Error frame")")
        #expect(await waitUntil(seconds: 10) { child.log.contains("refusing connection") }, "\(child.logTail())")

        // The admitted keep being served.
        let acks = try await blocking { try agents.map { try $0.sendAndWait(makeSnapshot(sequence: 1, timestampNanos: Self.now())) } }
        #expect(acks == [1, 1, 1])

        // A closed connection frees its place.
        agents[0].connection.close()
        let admitted = await waitUntil(seconds: 30) {
            (try? TestAgent(port: port, hostName: "capped-late").sendAndWait(makeSnapshot(sequence: 1, timestampNanos: Self.now()))) == 1
        }
        #expect(admitted, "\(child.logTail())")
    }

    /// The collector's receipt time (unix ms) of each snapshot of a process instance, by sequence.
    static func receivedAtMs(database path: String, instance: String) -> [UInt64: Double] {
        guard let database = try? DatabaseQueue(path: path) else { return [:] }
        defer { try? database.close() }
        let rows = (try? database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.sequence, s.receivedAtMs FROM sample s JOIN processInstance p ON p.id = s.instanceId
                WHERE p.instanceKey = ?
                """, arguments: [instance])
        }) ?? []
        return Dictionary(rows.map { (UInt64($0["sequence"] as Int64), Double($0["receivedAtMs"] as Int64)) }, uniquingKeysWith: { a, _ in a })
    }

    static func writeToken(in directory: TemporaryDirectory) throws -> String {
        let path = directory.path + "/token"
        try Data(testToken).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }
}

/// How late the scheduler runs a thread of this process: it sleeps 2 ms at a time and records what
/// it overslept, with when. While it was not run, neither was anything else waiting for a core.
final class SchedulingStallProbe: @unchecked Sendable {
    private let state = Locked([(at: Double, seconds: Double)]())
    private let stopped = Locked(false)
    private let done = DispatchSemaphore(value: 0)

    init(startedAt: ContinuousClock.Instant) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            while !stopped.withLock({ $0 }) {
                let before = ContinuousClock.now
                usleep(2000)
                let overslept = (ContinuousClock.now - before) / .seconds(1) - 0.002
                if overslept > 0.005 {
                    state.withLock { $0.append(((before - startedAt) / .seconds(1), overslept)) }
                }
            }
        }
    }

    /// The longest stall that overlaps [at, at + seconds] (seconds since the clock of `startedAt`).
    func longestStall(from at: Double, seconds: Double) -> Double {
        state.withLock { stalls in
            stalls.filter { $0.at < at + seconds && $0.at + 0.002 + $0.seconds > at }.map(\.seconds).max() ?? 0
        }
    }

    func stalls(over seconds: Double) -> [String] {
        state.withLock { $0.filter { $0.seconds > seconds }.map { String(format: "%.0f ms at +%.2f s", $0.seconds * 1000, $0.at) } }
    }

    func stop() {
        let wasStopped = stopped.withLock { stopped -> Bool in
            defer { stopped = true }
            return stopped
        }
        if !wasStopped { done.wait() }
    }
}

/// Round-trip times in seconds, summarised.
struct Latencies: CustomStringConvertible {
    let sorted: [Double]
    init(_ values: [Double]) { sorted = values.sorted() }
    var maximum: Double { sorted.last ?? 0 }
    func quantile(_ q: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }
    var description: String {
        func ms(_ s: Double) -> String { String(format: "%.1f", s * 1000) }
        return "n=\(sorted.count) p50 \(ms(quantile(0.5))) ms, p99 \(ms(quantile(0.99))) ms, max \(ms(maximum)) ms"
    }
}

/// A good agent on a thread of its own: a snapshot every `intervalSeconds` on one connection,
/// timing each until its Ack; every `newcomerEvery` round trips also a fresh agent (connect,
/// handshake, snapshot, Ack), timed whole.
final class GoodAgentProbe: @unchecked Sendable {
    private let state = Locked((roundTrips: [Double](), timeline: [(at: Double, seconds: Double)](), newcomers: [Double](), failure: String?.none, connections: 0,
                                sentAtMs: [Double](), instance: ""))
    private let stopped = Locked(false)
    private let done = DispatchSemaphore(value: 0)
    private let started = ContinuousClock.now
    var startedAt: ContinuousClock.Instant { started }

    var roundTrips: [Double] { state.withLock { $0.roundTrips } }
    /// Each round trip with when it started, seconds since the probe began.
    var timeline: [(at: Double, seconds: Double)] { state.withLock { $0.timeline } }
    var newcomerRoundTrips: [Double] { state.withLock { $0.newcomers } }
    var failure: String? { state.withLock { $0.failure } }
    var connections: Int { state.withLock { $0.connections } }
    /// Wall-clock send time (unix ms) of each round trip, in the order of `timeline`; and the
    /// probe's process instance (hex), to find its snapshots in the store.
    var sentAtMs: [Double] { state.withLock { $0.sentAtMs } }
    var instance: String { state.withLock { $0.instance } }
    var elapsedSeconds: Double { (ContinuousClock.now - started) / .seconds(1) }

    init(port: Int, intervalSeconds: Double = 0.05, newcomerEvery: Int = 10) {
        Thread.detachNewThread { [self] in
            defer { done.signal() }
            do {
                let agent = try TestAgent(port: port, hostName: "good")
                state.withLock {
                    $0.connections += 1
                    $0.instance = agent.instanceHex
                }
                var sequence: UInt64 = 0
                while !stopped.withLock({ $0 }) {
                    sequence += 1
                    let snapshot = makeSnapshot(sequence: sequence, timestampNanos: ResourceBoundsTests.now(),
                                                defineStacks: sequence == 1)
                    let sentAtMs = Date().timeIntervalSince1970 * 1000
                    let start = ContinuousClock.now
                    let ack = try agent.sendAndWait(snapshot)
                    let elapsed = (ContinuousClock.now - start) / .seconds(1)
                    guard ack == sequence else { throw TestFailure("Ack \(ack) for snapshot \(sequence)") }
                    let at = (start - started) / .seconds(1)
                    state.withLock {
                        $0.roundTrips.append(elapsed)
                        $0.timeline.append((at, elapsed))
                        $0.sentAtMs.append(sentAtMs)
                    }
                    if newcomerEvery > 0 && sequence % UInt64(newcomerEvery) == 0 {
                        let start = ContinuousClock.now
                        let newcomer = try TestAgent(port: port, hostName: "newcomer")
                        _ = try newcomer.sendAndWait(makeSnapshot(sequence: 1, timestampNanos: ResourceBoundsTests.now()))
                        newcomer.connection.close()
                        state.withLock { $0.newcomers.append((ContinuousClock.now - start) / .seconds(1)) }
                    }
                    Thread.sleep(forTimeInterval: intervalSeconds)
                }
            } catch where !stopped.withLock({ $0 }) {
                state.withLock { $0.failure = "\(error)" }
            } catch {}
        }
    }

    func stop() {
        let wasStopped = stopped.withLock { stopped -> Bool in
            defer { stopped = true }
            return stopped
        }
        if !wasStopped { done.wait() }
    }
}

/// `connections` authenticated agents, each on its own thread, sending the header of a snapshot
/// of `bodyBytes` and then all of the body but its last byte, in 64 KiB writes, and holding it.
final class PartialFrameAttack: @unchecked Sendable {
    private let state = Locked((authenticated: 0, bytesSent: 0, lastProgress: ContinuousClock.now,
                                finished: 0, failures: [String]()))
    private let stopped = Locked(false)
    private let done = DispatchGroup()
    let connections: Int

    var authenticated: Int { state.withLock { $0.authenticated } }
    var bytesSent: Int { state.withLock { $0.bytesSent } }
    var failures: [String] { state.withLock { $0.failures } }
    var quietSeconds: Double { state.withLock { (ContinuousClock.now - $0.lastProgress) / .seconds(1) } }

    /// Every attacker has sent its part, or none has got further for `quietSeconds`.
    func isSettled(quietSeconds: Double) -> Bool {
        state.withLock { $0.finished == connections } || self.quietSeconds >= quietSeconds
    }

    init(port: Int, connections: Int, bodyBytes: Int) {
        self.connections = connections
        let stopped = self.stopped
        for index in 0..<connections {
            done.enter()
            Thread.detachNewThread { [self] in
                defer { done.leave() }
                do {
                    var options = BlockingConnection.Options()
                    options.ioTimeoutSeconds = 600
                    let connection = try BlockingConnection.connect(
                        host: "127.0.0.1", port: port, options: options, isCancelled: { stopped.withLock { $0 } })
                    defer { connection.close() }
                    let hello = Wire.Hello(
                        supportedVersions: ProtocolVersion.supported, role: .agent, hostName: "attacker-\(index)",
                        serviceName: "flood", processInstanceID: randomInstanceID(), pid: 1,
                        processStartUnixNanos: 1_700_000_000_000_000_000)
                    _ = try connection.handshake(hello: hello, token: testToken)
                    state.withLock { $0.authenticated += 1 }
                    try connection.send(frameBytes: FrameHeader(kind: .snapshot, flags: [], bodyLength: bodyBytes).bytes)
                    let chunk = [UInt8](repeating: 0x0A, count: 64 << 10)
                    var remaining = bodyBytes - 1
                    while remaining > 0 {
                        let part = min(remaining, chunk.count)
                        try connection.send(frameBytes: Array(chunk[0..<part]))
                        remaining -= part
                        state.withLock {
                            $0.bytesSent += part
                            $0.lastProgress = .now
                        }
                    }
                    state.withLock { $0.finished += 1 }
                    while !stopped.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.05) }
                } catch where !stopped.withLock({ $0 }) {
                    state.withLock { $0.failures.append("attacker \(index): \(error)") }
                } catch {}
            }
        }
    }

    func stop() {
        stopped.withLock { $0 = true }
        done.wait()
    }
}
