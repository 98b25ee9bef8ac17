import Dispatch
import Foundation
import Logging

/// Runs the alert command for status changes and memory errors, one run at a time on a thread of
/// its own, from a bounded queue.
///
/// At most one run per host per change: a verdict pass submits one alert per host for the host's
/// status change and its sites' together (`StatusChanges`), and while a host's alert waits, a
/// newer one of the same kind merges into it, subject by subject (a status that changed and
/// changed back before its run is no alert at all; memory errors add up). A full queue drops the
/// new alert, logged and counted. Callers only take a lock and append: neither ingest nor the
/// verdict loop ever waits for a hook.
public final class AlertHook: Sendable {
    enum Trigger: Sendable {
        case statusChange(host: HostRecord, changes: StatusChanges, verdict: VerdictRecord)
        /// A host's memory errors committed at or after `fromMs`.
        case memoryErrors(hostName: String, serviceName: String, fromMs: Int64)

        var hostName: String {
            switch self {
            case .statusChange(let host, _, _): host.name
            case .memoryErrors(let hostName, _, _): hostName
            }
        }

        var isStatusChange: Bool { if case .statusChange = self { true } else { false } }

        /// This trigger with a newer one of the same host and kind folded in; nil when nothing is left to say.
        func merging(_ newer: Trigger) -> Trigger? {
            switch (self, newer) {
            case (.statusChange(_, let first, _), .statusChange(let host, let latest, let verdict)):
                return first.then(latest).map { .statusChange(host: host, changes: $0, verdict: verdict) }
            case (.memoryErrors(let name, let service, let first), .memoryErrors(_, _, let later)):
                return .memoryErrors(hostName: name, serviceName: service, fromMs: min(first, later))
            default:
                return newer
            }
        }
    }

    private struct State {
        var queue: [Trigger] = []
        var running = false
    }

    let configuration: AlertHookConfiguration
    let command: String
    let store: any FleetStore
    let metrics: CollectorMetrics
    let logger: Logger
    private let state = Locked(State())
    private let thread = DispatchQueue(label: "leakwatch.alert-hook", qos: .utility)

    /// nil when no command is configured.
    init?(configuration: AlertHookConfiguration, store: any FleetStore, metrics: CollectorMetrics, logger: Logger) {
        guard let command = configuration.command else { return nil }
        self.configuration = configuration
        self.command = command
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    /// Alerts waiting for their run (not the one running).
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    func submit(_ trigger: Trigger) {
        enum Admission { case start, queued, dropped }
        let admission = state.withLock { state -> Admission in
            if let index = state.queue.firstIndex(where: {
                $0.hostName == trigger.hostName && $0.isStatusChange == trigger.isStatusChange
            }) {
                if let merged = state.queue[index].merging(trigger) {
                    state.queue[index] = merged
                } else {
                    state.queue.remove(at: index)
                }
                return .queued
            }
            guard state.queue.count < configuration.queueCapacity else { return .dropped }
            state.queue.append(trigger)
            if state.running { return .queued }
            state.running = true
            return .start
        }
        switch admission {
        case .start: thread.async { self.runQueue() }
        case .queued: break
        case .dropped:
            metrics.alertsDropped.increment()
            logger.warning("alert dropped: the alert hook's queue is full (alertQueueCapacity)", metadata: [
                "leak.host": "\(trigger.hostName)", "leak.alertQueueCapacity": "\(configuration.queueCapacity)",
            ])
        }
    }

    private func runQueue() {
        while let trigger = state.withLock({ state -> Trigger? in
            if state.queue.isEmpty {
                state.running = false
                return nil
            }
            return state.queue.removeFirst()
        }) {
            run(trigger)
        }
    }

    private func run(_ trigger: Trigger) {
        let document: AlertDocument
        do {
            guard let built = try makeDocument(trigger) else { return }
            document = built
        } catch {
            logger.error("alert not sent: cannot read the store", metadata: ["leak.host": "\(trigger.hostName)", "leak.error": "\(error)"])
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let input: [UInt8] = (try? encoder.encode(document)).map { [UInt8]($0) + [0x0A] } ?? []
        let started = Date()
        let outcome = HookProcess.run(command: command, input: input, timeoutSeconds: configuration.timeoutSeconds)
        var metadata: Logger.Metadata = [
            "leak.host": "\(document.host)", "leak.alert": "\(document.kind)",
            "leak.status": "\(document.oldStatus)->\(document.newStatus)",
            "leak.seconds": "\((Date().timeIntervalSince(started) * 1000).rounded() / 1000)",
        ]
        switch outcome {
        case .succeeded:
            metrics.alertHookRun(result: "succeeded")
            logger.info("alert hook ran", metadata: metadata)
        case .failed(let exitStatus, let standardError):
            metrics.alertHookRun(result: "failed")
            metadata["leak.exitStatus"] = "\(exitStatus)"
            metadata["leak.stderr"] = "\(standardError)"
            logger.error("alert hook failed", metadata: metadata)
        case .timedOut:
            metrics.alertHookRun(result: "timed_out")
            metadata["leak.alertTimeoutSeconds"] = "\(configuration.timeoutSeconds)"
            logger.error("alert hook timed out and was killed", metadata: metadata)
        case .couldNotStart(let reason):
            metrics.alertHookRun(result: "failed")
            metadata["leak.error"] = "\(reason)"
            logger.error("alert hook could not start", metadata: metadata)
        }
    }

    /// The document for a trigger, read from the store as it is now; nil when the host is gone.
    private func makeDocument(_ trigger: Trigger) throws -> AlertDocument? {
        let reportCommand = AlertDocument.reportCommand(prefix: configuration.reportCommand, host: trigger.hostName)
        switch trigger {
        case .statusChange(let host, let changes, let verdict):
            let sites = verdict.decodedSites.sorted { $0.rateBytesPerHour > $1.rateBytesPerHour }
            let named = Dictionary(sites.map { ($0.stackId, $0) }, uniquingKeysWith: { a, _ in a })
            let stackIDs = sites.map(\.stackId) + changes.sites.keys.filter { named[$0] == nil }
            let stacks = Dictionary(try store.stacks(ids: stackIDs).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let hostStatus = changes.host ?? StatusChange(old: HostStatusValue(verdict.status), new: HostStatusValue(verdict.status))
            // Worst new status first, then fastest; a site back to ok last.
            let siteChanges = changes.sites.sorted {
                if $0.value.new != $1.value.new { return $0.value.new.rawValue > $1.value.new.rawValue }
                let rates = (named[$0.key]?.rateBytesPerHour ?? 0, named[$1.key]?.rateBytesPerHour ?? 0)
                return rates.0 != rates.1 ? rates.0 > rates.1 : $0.key < $1.key
            }
            return AlertDocument(
                kind: "status-change", host: host.name, service: host.serviceName,
                oldStatus: hostStatus.old.name, newStatus: hostStatus.new.name, rateBytesPerHour: verdict.rateBytesPerHour,
                since: verdict.sinceMs.map(AlertDocument.timestamp(ms:)), confidence: verdict.confidence, summary: verdict.summary,
                at: AlertDocument.timestamp(ms: verdict.evaluatedAtMs),
                sites: sites.map { site in
                    AlertDocument.Site(
                        stackId: site.stackId, status: HostStatusValue(site.status).name, rateBytesPerHour: site.rateBytesPerHour,
                        liveBytes: site.liveBytes, typeName: stacks[site.stackId]?.typeName,
                        topFrames: AlertDocument.frames(stacks[site.stackId]))
                },
                siteChanges: siteChanges.map { stackId, change in
                    AlertDocument.SiteChange(
                        stackId: stackId, oldStatus: change.old.name, newStatus: change.new.name,
                        rateBytesPerHour: named[stackId]?.rateBytesPerHour ?? 0, liveBytes: named[stackId]?.liveBytes,
                        typeName: stacks[stackId]?.typeName, topFrames: AlertDocument.frames(stacks[stackId]))
                },
                memoryErrors: [], reportCommand: reportCommand)
        case .memoryErrors(let hostName, let serviceName, let fromMs):
            guard let host = try store.host(named: hostName) else { return nil }
            let errors = try store.memoryErrors(hostId: host.id, fromMs: fromMs, limit: 20)
            guard let newest = errors.first else { return nil }
            let stackIDs = errors.flatMap { [$0.allocationStackId, $0.accessStackId].compactMap { $0 } }
            let stacks = Dictionary(try store.stacks(ids: stackIDs).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let verdict = try store.latestVerdict(hostId: host.id)
            let status = HostStatusValue(verdict?.status ?? VerdictRecord.notEnoughData).name
            return AlertDocument(
                kind: "memory-error", host: hostName, service: serviceName, oldStatus: status, newStatus: status,
                rateBytesPerHour: verdict?.rateBytesPerHour ?? 0, since: verdict?.sinceMs.map(AlertDocument.timestamp(ms:)),
                confidence: verdict?.confidence ?? 0, summary: "\(errors.count) memory error(s): \(newest.kind) on \(newest.access)",
                at: AlertDocument.timestamp(ms: newest.timestampMs), sites: [], siteChanges: [],
                memoryErrors: errors.map { error in
                    AlertDocument.MemoryError(
                        kind: error.kind, access: error.access, at: AlertDocument.timestamp(ms: error.timestampMs),
                        blockSizeBytes: error.blockSizeBytes, blockOffset: error.blockOffset, recovered: error.recovered,
                        allocationFrames: AlertDocument.frames(error.allocationStackId.flatMap { stacks[$0] }),
                        accessFrames: AlertDocument.frames(error.accessStackId.flatMap { stacks[$0] }))
                },
                reportCommand: reportCommand)
        }
    }
}
