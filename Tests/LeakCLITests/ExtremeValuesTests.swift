import Foundation
import GRDB
import LeakCLI
import LeakCollector
import LeakCollectorTestSupport
import LeakTestSupport
import LeakWire
import Testing

/// Issue 15, item 2: no stored value can crash a reader. A seeded generator sends random and
/// extreme snapshots (0, 1, 2^56, 2^63−1, 2^64−1, NaN, ±inf, 1e300, year 2262, 16 KiB names,
/// 256-frame stacks, 10,000 sites) over real TCP into a real collector, then runs every
/// collector-cli command and output format (text, JSON, HTML, pprof) on every host. A trap
/// anywhere ends the test process.
///
/// What validation rejects must be answered MALFORMED_MESSAGE naming the field and leave no
/// trace; what it accepts must render. The same generator decides both, through
/// `SnapshotValidation`, so the test checks the collector against the rules, not against itself.
/// A second part writes what only an older collector could have stored (Int64.max, Int64.min,
/// an infinite uptime and rate) straight into the store, and reads it back the same way.
@Suite("collector-cli on extreme stored values", .serialized)
struct ExtremeValuesTests {
    /// Override with LEAKWATCH_PROPERTY_SEED to replay a failure; every failure message names it.
    static let seed: UInt64 = ProcessInfo.processInfo.environment["LEAKWATCH_PROPERTY_SEED"].flatMap { UInt64($0) } ?? 15
    static let hostCount = 24
    static let snapshotsPerHost = 4

    @Test func everyCommandRendersEveryAcceptedValueAndEveryRejectionNamesItsField() async throws {
        let collector = try await TestCollector.start { $0.staleAfterSeconds = 1e9 }
        try await collector.use { collector in
            var random = Generator(seed: Self.seed)
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            var acceptedHosts: Set<String> = []
            var rejected = 0, accepted = 0
            for index in 0..<Self.hostCount {
                let host = "extreme-\(index)"
                let plans = (1...Self.snapshotsPerHost).map { sequence in
                    random.snapshot(sequence: UInt64(sequence), now: now, siteCount: index == 7 ? 10_000 : random.below(6))
                }
                let port = collector.port
                let outcomes = try await blocking { try Self.ship(plans, host: host, instance: UInt8(index), port: port) }
                accepted += outcomes.filter { $0 == nil }.count
                rejected += outcomes.filter { $0 != nil }.count
                if outcomes.contains(where: { $0 == nil }) { acceptedHosts.insert(host) }
            }
            #expect(accepted > 10 && rejected > 10, "seed \(Self.seed): the generator should exercise both paths")
            _ = try collector.collector.maintenance.evaluateVerdicts()
            try await Self.readEverything(collector, hosts: acceptedHosts, now: now)
        }
    }

    @Test func valuesOnlyAnOlderCollectorCouldStoreStillRender() async throws {
        let collector = try await TestCollector.start { $0.staleAfterSeconds = 1e9 }
        try await collector.use { collector in
            let store = collector.collector.sqliteStore
            let frames = [StackFrame(address: .max, function: String(repeating: "f", count: 40_000), file: "", line: .max, image: "")]
            let stack = StackDefinition(frames: frames, typeName: String(repeating: "T", count: 5000))
            // Times as an older collector stored them: agent nanoseconds / 10^6, so ±9.2e12 ms at most.
            let latestMs = Int64.max / 1_000_000, earliestMs = Int64.min / 1_000_000
            for (index, (timestampMs, value, uptime)) in [
                (latestMs, Int64.max, Double.infinity),
                (earliestMs, Int64.min, -Double.infinity),
                (Int64(0), Int64.max, 1e300),
                (latestMs - 1, Int64.max - 1, -1),
            ].enumerated() {
                let process = ProcessIdentity(hostName: "stored-\(index)", instanceKey: "0\(index)", startedAtMs: timestampMs)
                let batch = (1...3).map { sequence in
                    SnapshotIngest(
                        process: process, sequence: Int64(sequence),
                        timestampMs: sequence == 2 ? earliestMs : timestampMs,
                        stats: SnapshotStats(
                            bytesAllocatedTotal: value, bytesInUse: sequence == 3 ? 0 : value, peakBytesInUse: value,
                            allocationCount: value, freeCount: value, blocksOutstanding: value, residentBytes: value,
                            uptimeSeconds: uptime),
                        overhead: AgentOverhead(trackerBytes: value, agentHeapBytes: value),
                        newStacks: [stack],
                        sites: [SiteSample(stackDigest: stack.digest, liveBytesEstimate: value, liveObjectsEstimate: value,
                                           allocatedBytesTotal: value)],
                        pattern: AllocationPattern(sizeClasses: [.init(upperBoundBytes: value, allocationCount: value, bytes: value)],
                                                   topSizes: [.init(sizeBytes: value, allocationCount: value)]),
                        events: [SnapshotEvent(timestampMs: timestampMs, kind: "snapshotsDropped", severity: "warning",
                                               message: String(repeating: "m", count: 10_000), value: value, thresholdBytes: value)])
                }
                _ = try store.ingest(batch)
            }
            _ = try collector.collector.maintenance.evaluateVerdicts()
            // Verdicts no engine produces, written as SQL can: infinite rate, confidence, onset.
            let database = try DatabaseQueue(path: store.databasePath)
            try await database.write { db in
                try db.execute(sql: """
                    UPDATE verdict SET rateBytesPerHour = 9e999, confidence = -9e999, sinceMs = 9223372036854775807,
                        status = 'suspectedLeak', sites = '[{"stackId":-1,"status":"suspectedLeak","rateBytesPerHour":1e308,"liveBytes":-1}]'
                    """)
            }
            try database.close()
            let hosts = Set((0..<4).map { "stored-\($0)" })
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            try await Self.readEverything(collector, hosts: hosts, now: now)
            try await Self.openInChromium(collector, hosts: hosts, now: now)
        }
    }

    // MARK: Shipping

    /// Sends each snapshot on one agent connection; returns nil for each acked, or the violation
    /// the rules predict for each rejected (checking the collector answered exactly that).
    static func ship(_ snapshots: [Leakwatch_V1_Snapshot], host: String, instance: UInt8, port: Int) throws -> [SnapshotViolation?] {
        let processStart: Int64 = 1_764_000_000_000_000_000
        let agent = try SeedAgent(port: port, host: host, service: "extreme", instance: instance, pid: 1,
                                  startNanos: processStart)
        defer { agent.close() }
        var previous: SnapshotCounters?
        var outcomes: [SnapshotViolation?] = []
        for snapshot in snapshots {
            let receivedAt = Int64(Date().timeIntervalSince1970 * 1e9)
            let expected: SnapshotViolation?
            do {
                try SnapshotValidation.check(snapshot, receivedAtUnixNanos: receivedAt, processStartUnixNanos: processStart)
                if let previous {
                    try SnapshotValidation.checkContinuity(SnapshotCounters(snapshot), after: previous, sequence: snapshot.sequence)
                }
                expected = nil
                previous = SnapshotCounters(snapshot)
            } catch {
                expected = error
            }
            try agent.connection.send(.snapshot(snapshot))
            let reply = try agent.connection.receive()
            switch (reply, expected) {
            case (.ack(let ack), nil):
                guard ack.sequence == snapshot.sequence else { throw TestFailure("seed \(seed): ack \(ack.sequence) for \(snapshot.sequence)") }
            case (.error(let error), let violation?):
                guard error.code == .malformedMessage, error.requestID == snapshot.sequence,
                      error.message.contains(violation.field) else {
                    throw TestFailure("seed \(seed), \(host) #\(snapshot.sequence): expected a rejection naming \(violation.field), got \(error)")
                }
            default:
                throw TestFailure("seed \(seed), \(host) #\(snapshot.sequence): expected \(expected.map { "rejection of \($0.field)" } ?? "an ack"), got \(reply)")
            }
            outcomes.append(expected)
        }
        return outcomes
    }

    // MARK: Reading

    /// Every command and format on every host. Exit codes: 0, except "no data" where a host has
    /// no sampled site (sites, export). JSON must parse; HTML must be well-formed; text must name
    /// the host.
    static func readEverything(_ collector: TestCollector, hosts: Set<String>, now: Int64) async throws {
        let context = collector.context(now: now)
        let text = try await collector.run(["hosts"], context: context)
        #expect(text.exitCode == 0, "seed \(seed): hosts: \(text.standardError)")
        for host in hosts { #expect(text.text.contains(host), "seed \(seed): hosts lacks \(host)") }
        let json = try await collector.run(["hosts", "--format", "json"], context: context)
        #expect(json.exitCode == 0)
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput)) as? [[String: Any]])
        #expect(Set(listed.compactMap { $0["host"] as? String }) == hosts, "seed \(seed): only accepted hosts are stored")
        let page = try await collector.run(["hosts", "--format", "html"], context: context)
        #expect(page.exitCode == 0, "seed \(seed): hosts --format html: \(page.standardError)")
        #expect(PageChecks.wellFormedProblem(page.text) == nil, "seed \(seed): hosts --format html: \(PageChecks.wellFormedProblem(page.text) ?? "")")

        for host in hosts.sorted() {
            for arguments in [["report", "--host", host], ["report", "--host", host, "--format", "json"],
                              ["report", "--host", host, "--format", "html"]] {
                let report = try await collector.run(arguments, context: context)
                #expect(report.exitCode == 0, "seed \(seed): \(arguments): \(report.standardError)")
                #expect(report.text.contains(host))
                if arguments.contains("json") { _ = try JSONSerialization.jsonObject(with: Data(report.standardOutput)) }
                if arguments.contains("html") {
                    #expect(PageChecks.wellFormedProblem(report.text) == nil, "seed \(seed): \(arguments): \(PageChecks.wellFormedProblem(report.text) ?? "")")
                    for drawn in ["=\"nan", "=\"inf", "=\"-inf", "Mnan", "Lnan", "Minf", "Linf", " nanL", " infL", " nan\"", " inf\""] {
                        #expect(!report.text.contains(drawn), "seed \(seed): \(arguments): a non-number drawn: \(drawn)")
                    }
                }
            }
            for arguments in [["sites", "--host", host], ["sites", "--host", host, "--format", "json"],
                              ["export", "--host", host, "--output", "-"]] {
                let result = try await collector.run(arguments, context: context)
                #expect([0, CLIExitCode.noData].contains(result.exitCode), "seed \(seed): \(arguments): \(result.standardError)")
                guard result.exitCode == 0 else { continue }
                if arguments.contains("json") { _ = try JSONSerialization.jsonObject(with: Data(result.standardOutput)) }
                if arguments[0] == "export" { #expect(try !Gzip.decompress(result.standardOutput).isEmpty) }
            }
        }
    }

    /// The HTML pages of `hosts` in headless Chromium, when installed: Int64.max, infinite rates
    /// and year-2262 times must draw nothing it rejects (it logs a bad SVG number as an error).
    static func openInChromium(_ collector: TestCollector, hosts: Set<String>, now: Int64) async throws {
        guard let chromium = HeadlessChromium.find() else { return }
        let context = collector.context(now: now)
        for (index, host) in hosts.sorted().enumerated() {
            let name = "extreme-\(index).html"
            let result = try await collector.run(["report", "--host", host, "--format", "html", "--output", name], context: context)
            #expect(result.exitCode == 0, "\(host): \(result.standardError)")
            let page = try await chromium.load(collector.directory.appendingPathComponent(name), in: collector.directory.url)
            HTMLReportTests.keep([page.screenshot])
            #expect(page.consoleErrors.isEmpty, "\(host): \(page.consoleErrors)")
        }
        let fleet = try await collector.run(["hosts", "--format", "html", "--output", "extreme-fleet.html"], context: context)
        #expect(fleet.exitCode == 0, "\(fleet.standardError)")
        let page = try await chromium.load(collector.directory.appendingPathComponent("extreme-fleet.html"), in: collector.directory.url)
        #expect(page.consoleErrors.isEmpty, "hosts: \(page.consoleErrors)")
    }
}

/// SplitMix64 with the extreme values a property test wants more often than uniform draws give.
struct Generator {
    private var random: SplitMix64
    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }

    static let bound: UInt64 = 1 << 56
    /// Mostly values the rules accept (the extremes among them too); 4% beyond the bound.
    mutating func counter() -> UInt64 {
        if chance(4) { return pick([Self.bound + 1, UInt64(Int64.max), 1 << 63, .max]) }
        return pick([0, 1, 2, Self.bound, Self.bound - 1, next() % Self.bound, next() % (1 << 32), next() % 4096])
    }

    mutating func signedCounter() -> Int64 {
        if chance(4) { return pick([Int64.min, .max, Int64(Self.bound) + 1]) }
        return pick([0, -1, 1, Int64(Self.bound), -Int64(Self.bound), Int64(next() % (1 << 40)) - (1 << 39)])
    }

    mutating func uptime() -> Double {
        if chance(8) { return pick([.nan, .infinity, -.infinity, 1e300, -1, 4_294_967_297]) }
        return pick([0, 1, 0.5, 4_294_967_296, Double(next() % 1_000_000) / 7])
    }

    mutating func timestamp(now: Int64, sequence: UInt64) -> Int64 {
        let regular = now - Int64(10 - sequence) * 60_000_000_000
        if chance(6) {
            return pick([0, Int64.min, Int64.max, now + 600_000_000_000, 1_577_836_800_000_000_000 - 1, 1_577_836_800_000_000_000])
        }
        return regular
    }

    mutating func name(_ base: String) -> String {
        if chance(3) { return String(repeating: "x", count: pick([16 << 10, (16 << 10) + 1])) }
        if chance(3) { return "" }
        return base
    }

    mutating func snapshot(sequence: UInt64, now: Int64, siteCount: Int) -> Leakwatch_V1_Snapshot {
        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.sequence = sequence
        snapshot.timestampUnixNanos = timestamp(now: now, sequence: sequence)
        // Totals grow with the sequence unless the generator picks one that does not (ran backwards).
        let base = UInt64(sequence) * 1000
        snapshot.stats.totalAllocatedBytes = chance(90) ? base : counter()
        snapshot.stats.allocationCount = chance(90) ? base : counter()
        snapshot.stats.freeCount = chance(90) ? base / 2 : counter()
        snapshot.stats.currentBytes = counter()
        snapshot.stats.peakBytes = counter()
        snapshot.stats.rssBytes = counter()
        snapshot.stats.blocksOutstanding = signedCounter()
        snapshot.stats.uptimeSeconds = uptime()
        snapshot.overhead.trackerBytes = counter()
        snapshot.overhead.agentHeapBytes = counter()
        for _ in 0..<below(4) {
            snapshot.sizeClasses.append(.with {
                $0.upperBoundBytes = pick([8, 64, 4096, UInt64.max, next()])
                $0.count = counter()
                $0.bytes = counter()
            })
            snapshot.topSizes.append(.with {
                $0.size = pick([0, 1, 48, UInt64.max, next()])
                $0.count = counter()
            })
        }
        let huge = siteCount > 1000
        for index in 0..<siteCount {
            let id = UInt64(index + 1)
            snapshot.sites.append(.with {
                $0.stackID = id
                $0.liveBytes = huge ? UInt64(index) * 4096 : counter()
                $0.liveObjects = huge ? 1 : counter()
                $0.allocatedBytes = huge ? UInt64(index) * 8192 : counter()
                if !huge && chance(30) { $0.typeName = name("App.Type\(index)") }
            })
            let depth = huge ? 1 : pick([0, 1, 3, 48, 256, 257])
            snapshot.stacks.append(.with { stack in
                stack.id = id
                stack.frames = (0..<depth).map { level in
                    .with {
                        $0.function = huge ? "f\(index)" : name("App.function\(index)_\(level)")
                        $0.file = huge ? "" : name("/src/File\(index).swift")
                        $0.line = huge ? 1 : UInt32(truncatingIfNeeded: next())
                        $0.image = huge ? "app" : name("app")
                        $0.address = next()
                    }
                }
            })
        }
        for _ in 0..<below(3) {
            snapshot.events.append(.with {
                $0.kind = pick([.thresholdWarning, .thresholdCritical, .thresholdCleared, .snapshotsDropped, .agentError, .unspecified])
                $0.timestampUnixNanos = timestamp(now: now, sequence: sequence)
                $0.value = counter()
                $0.droppedCount = counter()
                $0.thresholdBytes = counter()
                $0.message = name("event")
            })
        }
        return snapshot
    }
}
