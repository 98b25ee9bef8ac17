import Foundation
import LeakAnalysis
import Logging
import ServiceLifecycle

/// Periodic work on the store: recompute verdicts of hosts that reported since the last pass,
/// and apply retention and rollups. Stops at graceful shutdown (between passes).
public final class MaintenanceService: Service, Sendable {
    let store: any FleetStore
    let configuration: CollectorConfiguration
    let evaluator: VerdictEvaluator
    let logger: Logger
    let metrics: CollectorMetrics
    /// Told of every verdict that changes a host's status.
    let alerts: AlertHook?
    /// Each host's floor buckets, by host id, kept between passes: a pass reads only the snapshots
    /// that arrived since the last one. Hosts not heard from since are skipped.
    private let keptSeries = Locked([Int64: KeptSeries]())
    private let lastPass = Locked<VerdictPass?>(nil)

    private struct KeptSeries: Sendable {
        var accumulator: HostSeriesAccumulator
        /// Newest snapshot time added (ms).
        var throughMs: Int64
    }

    init(
        store: any FleetStore, configuration: CollectorConfiguration, logger: Logger,
        metrics: CollectorMetrics, alerts: AlertHook?
    ) {
        self.store = store
        self.metrics = metrics
        self.alerts = alerts
        self.configuration = configuration
        var verdictConfiguration = VerdictEvaluator.defaultConfiguration
        verdictConfiguration.windowSeconds = configuration.verdictWindowSeconds
        verdictConfiguration = verdictConfiguration.compressingTime(by: configuration.analysisTimeScale)
        self.evaluator = VerdictEvaluator(configuration: verdictConfiguration, analysisTimeScale: configuration.analysisTimeScale)
        self.logger = logger
    }

    public func run() async throws {
        let verdictInterval = configuration.verdictIntervalSeconds
        let retentionInterval = configuration.retentionIntervalSeconds
        guard verdictInterval > 0 || retentionInterval > 0 else { return }
        await cancelWhenGracefulShutdown { [self] in
            var nextVerdicts = Date().addingTimeInterval(min(verdictInterval, 10))
            var nextRetention = Date().addingTimeInterval(min(retentionInterval, 30))
            while !Task.isCancelled {
                let now = Date()
                if verdictInterval > 0 && now >= nextVerdicts {
                    let due = nextVerdicts
                    await runOffloaded { try self.evaluateVerdicts(dueAt: due) }
                    // Passes keep their cadence; one that overran starts the next at once (its lag).
                    nextVerdicts = max(due.addingTimeInterval(verdictInterval), Date().addingTimeInterval(-verdictInterval))
                }
                if retentionInterval > 0 && now >= nextRetention {
                    await runOffloaded { try self.store.applyRetention(nowMs: Int64(Date().timeIntervalSince1970 * 1000)) }
                    nextRetention = Date().addingTimeInterval(retentionInterval)
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private func runOffloaded(_ body: @escaping @Sendable () throws -> some Sendable) async {
        do {
            _ = try await Task.detached(priority: .utility) { try body() }.value
        } catch {
            logger.error("maintenance pass failed", metadata: ["leak.error": "\(error)"])
        }
    }

    /// Per-site values for a verdict: six points per 10-minute floor bucket over the window
    /// (the host total is always read in full). Keeps a pass over a large fleet affordable.
    static func maximumSiteRows(_ configuration: CollectorConfiguration) -> Int {
        max(600, Int(configuration.verdictWindowSeconds / 600) * 6)
    }

    /// The newest verdict pass, or nil before the first.
    public var latestVerdictPass: VerdictPass? { lastPass.withLock { $0 } }

    /// Evaluates every host with snapshots newer than its last verdict; returns how many.
    /// `dueAt`: when the pass was scheduled, for its lag.
    @discardableResult
    public func evaluateVerdicts(dueAt: Date? = nil) throws -> Int {
        let started = Date()
        let startedCPU = threadCPUSeconds()
        var evaluated = 0
        var seeded = 0
        // With several collectors on one store, each judges its own share of the fleet.
        let hosts = try store.verdictShare(of: store.hosts())
        for host in hosts {
            // Taken out of the table while it grows (no copy on write), put back after.
            var kept = keptSeries.withLock { $0.removeValue(forKey: host.id) }
            defer { if let kept { keptSeries.withLock { $0[host.id] = kept } } }
            if let kept, kept.throughMs >= host.lastSeenMs { continue }
            // First sight (or the first pass after a collector start): what a verdict reads, with
            // the sites thinned; afterwards only the snapshots since the last pass, all of them.
            let firstSight = kept == nil
            var series = kept ?? KeptSeries(
                accumulator: HostSeriesAccumulator(configuration: evaluator.configuration),
                throughMs: host.lastSeenMs - Int64(evaluator.readSpanSeconds * 1000) - 1)
            kept = nil  // a storage error below: the host is read whole at the next pass
            let window = try store.window(
                host: host, fromMs: series.throughMs + 1, toMs: host.lastSeenMs,
                maximumSiteRows: firstSight ? Self.maximumSiteRows(configuration) : .max)
            if firstSight { seeded += 1 }
            VerdictEvaluator.append(window, to: &series.accumulator)
            series.throughMs = max(series.throughMs, window.points.last?.timestampMs ?? host.lastSeenMs)
            kept = series
            let verdict = evaluator.evaluate(series.accumulator.series, of: window, evaluatedAtMs: host.lastSeenMs)
            let previous = alerts == nil ? nil : try store.latestJudgedVerdict(hostId: host.id)
            try store.storeVerdict(verdict)
            if let alerts, let changes = StatusChanges(previous: previous, current: verdict) {
                alerts.submit(.statusChange(host: host, changes: changes, verdict: verdict))
            }
            evaluated += 1
            logger.debug("verdict", metadata: [
                "leak.host": "\(host.name)", "leak.status": "\(verdict.status)",
                "leak.rateBytesPerHour": "\(Int(verdict.rateBytesPerHour))",
            ])
        }
        // Hosts retired from the store, or now judged by another collector, leave with their buckets.
        let known = Set(hosts.map(\.id))
        keptSeries.withLock { kept in kept = kept.filter { known.contains($0.key) } }
        let pass = VerdictPass(
            startedAt: started, lagSeconds: dueAt.map { max(0, started.timeIntervalSince($0)) } ?? 0,
            wallSeconds: Date().timeIntervalSince(started), cpuSeconds: threadCPUSeconds() - startedCPU,
            hostsEvaluated: evaluated, hostsSeeded: seeded, hostsKept: known.count)
        lastPass.withLock { $0 = pass }
        metrics.verdictPassDuration.record(.seconds(pass.wallSeconds))
        let level: Logger.Level = pass.lagSeconds > configuration.verdictIntervalSeconds ? .warning : .info
        logger.log(level: level, "verdict pass", metadata: [
            "leak.hosts": "\(evaluated)", "leak.seeded": "\(seeded)",
            "leak.passSeconds": "\(rounded(pass.wallSeconds))", "leak.lagSeconds": "\(rounded(pass.lagSeconds))",
            "leak.cpuMillisecondsPerHost": "\(rounded(pass.cpuMillisecondsPerHost))",
        ])
        return evaluated
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// What one verdict pass cost, and how late it started.
public struct VerdictPass: Sendable {
    public var startedAt: Date
    /// How long after it was due the pass started: a pass that takes longer than the interval
    /// makes the next one late.
    public var lagSeconds: Double
    public var wallSeconds: Double
    /// CPU time of the pass's thread.
    public var cpuSeconds: Double
    public var hostsEvaluated: Int
    /// Hosts whose buckets were built from the store (first sight, or a collector restart).
    public var hostsSeeded: Int
    public var hostsKept: Int

    public var cpuMillisecondsPerHost: Double { hostsEvaluated > 0 ? cpuSeconds * 1000 / Double(hostsEvaluated) : 0 }
}

/// CPU time consumed by the calling thread.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
