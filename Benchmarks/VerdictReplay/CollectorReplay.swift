import Foundation
import LeakAnalysis
import LeakCLI
import LeakCollector
import Logging

/// Replays labelled series end to end, the path the product runs: agent protocol over TCP →
/// ingest → SQLite → retention and rollups → `MaintenanceService.evaluateVerdicts()` → the stored
/// verdict `collector-cli hosts` reads. Each series gets a collector of its own, built by
/// `buildCollector` with the default configuration, a database in a temporary directory, on
/// 127.0.0.1 port 0; only its periodic verdict and retention loops are off, because this replay
/// runs both at simulated moments.
///
/// Times: a series is shifted by whole hours to end within the hour before now, since retention
/// works against the wall clock; whole hours keep the 10-minute buckets (aligned on the timestamp
/// axis) what they are for the direct analyzer. Every `cadenceSeconds` of series time, once every
/// snapshot before that moment is acknowledged, the verdict pass runs and the host's latest verdict
/// is read; every hour, before it, retention runs with that moment as now.
public struct CollectorReplay: Sendable {
    public var cadenceSeconds: Double
    /// Changes to the default configuration (the replay still turns the periodic loops off).
    public var adjust: @Sendable (inout CollectorConfiguration) -> Void
    /// Called after every evaluation with the `t_seconds` and the stored verdict (tests, --verbose).
    public var observe: (@Sendable (Double, VerdictRecord) -> Void)?

    static let token = Array("verdict-evaluation-token".utf8)

    public init(
        cadenceSeconds: Double = 600, adjust: @escaping @Sendable (inout CollectorConfiguration) -> Void = { _ in },
        observe: (@Sendable (Double, VerdictRecord) -> Void)? = nil
    ) {
        self.cadenceSeconds = cadenceSeconds
        self.adjust = adjust
        self.observe = observe
    }

    /// The configuration a replay's collector runs with.
    public func configuration(dataDirectory: String) -> CollectorConfiguration {
        var configuration = CollectorConfiguration()
        adjust(&configuration)
        configuration.listenHost = "127.0.0.1"
        configuration.listenPort = 0
        configuration.dataDirectory = dataDirectory
        configuration.token = Self.token
        configuration.verdictIntervalSeconds = 0
        configuration.retentionIntervalSeconds = 0
        return configuration
    }

    /// The analyzer configuration this replay's collector judges with, built as
    /// `MaintenanceService` builds it: what the analyzer must run to be compared with it.
    public var verdictConfiguration: VerdictConfiguration {
        let collector = configuration(dataDirectory: "")
        var verdict = VerdictConfiguration()
        verdict.windowSeconds = collector.verdictWindowSeconds
        return verdict.compressingTime(by: collector.analysisTimeScale)
    }

    /// Evaluation moments (`t_seconds`): every cadence boundary after the first row, through the
    /// first one after the last row (which sees all the data).
    public func evaluationTimes(_ series: ReplaySeries) -> [Double] {
        guard let first = series.rows.first?.tSeconds, let last = series.rows.last?.tSeconds else { return [] }
        var times: [Double] = []
        var t = ((first / cadenceSeconds).rounded(.down) + 1) * cadenceSeconds
        while t <= last + cadenceSeconds {
            times.append(t)
            t += cadenceSeconds
        }
        return times
    }

    /// Where `t_seconds` 0 lands on the wall clock: a whole hour, with the last row before `nowSeconds`.
    public static func startUnixSeconds(_ series: ReplaySeries, nowSeconds: Double) -> Int64 {
        Int64(((nowSeconds - (series.rows.last?.tSeconds ?? 0)) / 3600).rounded(.down)) * 3600
    }

    public func replay(_ labelled: LabelledReplay) async throws -> VerdictTimeline {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("verdict-replay-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "leakwatch.verdict-replay")
        logger.logLevel = .critical
        let collector = try buildCollector(configuration(dataDirectory: directory + "/data"), logger: logger, handleSignals: false)
        let running = Task { try await collector.run() }
        let timeline: VerdictTimeline
        do {
            let port = try await collector.server.boundAddress().port!
            let replay = self
            timeline = try await Self.onThread { try replay.drive(labelled, collector: collector, port: port) }
        } catch {
            await collector.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await collector.triggerGracefulShutdown()
        try await running.value
        return timeline
    }

    /// Sends, evaluates and reads, blocking (sockets and SQLite).
    func drive(_ labelled: LabelledReplay, collector: Collector, port: Int) throws -> VerdictTimeline {
        let series = labelled.series
        let startUnixSeconds = Self.startUnixSeconds(series, nowSeconds: Date().timeIntervalSince1970)
        let stackIDs = ReplaySeries.stackIDs([series])
        let agent = ReplayAgent(
            series: series, service: "verdict-evaluation", endpoint: CollectorEndpoint(host: "127.0.0.1", port: port),
            token: Self.token, startUnixNanos: startUnixSeconds * 1_000_000_000, stackIDs: stackIDs)
        defer { agent.close() }
        var siteNames: [Int64: String] = [:]
        var timeline = VerdictTimeline(replay: labelled, startUnixSeconds: startUnixSeconds)
        for t in evaluationTimes(series) {
            try agent.send(before: t)
            let nowMs = (startUnixSeconds + Int64(t)) * 1000
            if Int64(t) % 3600 == 0 {
                timeline.rolledUpSnapshots += try collector.store.applyRetention(nowMs: nowMs).rawSamplesRolledUp
            }
            try collector.maintenance.evaluateVerdicts()
            guard let host = try collector.store.host(named: series.host),
                  let verdict = try collector.store.latestVerdict(hostId: host.id)
            else { continue }
            let suspected = verdict.decodedSites.filter { $0.status == VerdictTimeline.suspectedLeak }.map(\.stackId)
            for stackId in suspected where siteNames[stackId] == nil {
                for stack in try collector.store.stacks(ids: [stackId]) {
                    siteNames[stack.id] = Self.firstFunction(stack)
                }
            }
            timeline.record(tSeconds: t, status: verdict.status, suspectedSites: Set(suspected.map { siteNames[$0] ?? "stack \($0)" }),
                            evaluatedAtMs: verdict.evaluatedAtMs)
            observe?(t, verdict)
        }
        return timeline
    }

    /// The `site_id` a one-frame stack was sent as.
    static func firstFunction(_ stack: StackRecord) -> String {
        let frames = (try? JSONDecoder().decode([StackFrame].self, from: Data(stack.frames.utf8))) ?? []
        return frames.first?.function ?? "stack \(stack.id)"
    }

    /// Runs blocking work on a thread of its own, off the few threads the concurrency pool has
    /// (the collector's own tasks run there).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
