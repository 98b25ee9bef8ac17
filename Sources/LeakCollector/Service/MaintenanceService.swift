import Foundation
import LeakAnalysis
import Logging
import ServiceLifecycle

/// Periodic work on the store: recompute verdicts of hosts that reported since the last pass,
/// and apply retention and rollups. Stops at graceful shutdown (between passes).
public final class MaintenanceService: Service, Sendable {
    let store: CollectorStore
    let configuration: CollectorConfiguration
    let evaluator: VerdictEvaluator
    let logger: Logger
    /// Last time each host's verdict was computed, by host id: hosts not heard from since are skipped.
    private let evaluatedThrough = Locked([Int64: Int64]())

    init(store: CollectorStore, configuration: CollectorConfiguration, logger: Logger) {
        self.store = store
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
                    await runOffloaded { try self.evaluateVerdicts() }
                    nextVerdicts = Date().addingTimeInterval(verdictInterval)
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

    /// Evaluates every host with snapshots newer than its last verdict; returns how many.
    @discardableResult
    public func evaluateVerdicts() throws -> Int {
        var evaluated = 0
        for host in try store.hosts() {
            let done = evaluatedThrough.withLock { $0[host.id] }
            if let done, done >= host.lastSeenMs { continue }
            let fromMs = host.lastSeenMs - Int64(configuration.verdictWindowSeconds / configuration.analysisTimeScale * 1000)
            let window = try store.window(
                host: host, fromMs: fromMs, toMs: host.lastSeenMs, maximumSiteRows: Self.maximumSiteRows(configuration))
            let verdict = evaluator.evaluate(window, evaluatedAtMs: host.lastSeenMs)
            try store.storeVerdict(verdict)
            evaluatedThrough.withLock { $0[host.id] = host.lastSeenMs }
            evaluated += 1
            logger.debug("verdict", metadata: [
                "leak.host": "\(host.name)", "leak.status": "\(verdict.status)",
                "leak.rateBytesPerHour": "\(Int(verdict.rateBytesPerHour))",
            ])
        }
        return evaluated
    }
}
