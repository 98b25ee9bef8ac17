import Foundation
import Prometheus

/// One scrape's text: the collector's health instruments, refreshed, then the fleet gauges.
///
/// The per-host gauges are read from the store at scrape time, not kept from the verdict loop: the
/// store is what `collector-cli hosts` shows, so the two never disagree; a host retention deletes
/// is gone from the next scrape with nothing to unregister; and a scrape costs one read
/// transaction with a seek per host, on the thread pool, never on an event loop.
struct MetricsExposition: Sendable {
    let metrics: CollectorMetrics
    let store: any FleetStore
    let openConnections: @Sendable () -> Int
    let latestVerdictPass: @Sendable () -> VerdictPass?
    let verdictIntervalSeconds: Double

    func render(now: Date = Date()) throws -> [UInt8] {
        metrics.openConnections.set(Double(openConnections()))
        // A size the store cannot tell (a database it may not inspect) is left as it was.
        if let bytes = try? store.storageBytes() { metrics.databaseSize.set(Double(bytes)) }
        metrics.verdictLoopLag.set(verdictLoopLagSeconds(now: now))
        var text = [UInt8]()
        metrics.registry.emit(into: &text)
        Self.fleetRegistry(try store.hostGaugeRows()).emit(into: &text)
        return text
    }

    /// A registry of this scrape's own: a host absent from the store has no series in it.
    static func fleetRegistry(_ rows: [HostGaugeRow]) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        let status = CollectorMetrics.name(
            "host_status", "", "Newest verdict: 0 ok, 1 growing, 2 suspected leak, -1 not enough data yet.")
        let rate = CollectorMetrics.name(
            "host_leak_rate", "bytes_per_hour", "Growth rate of the host's heap floor, from its newest verdict.")
        let heap = CollectorMetrics.name("host_heap", "bytes", "Bytes in use on the host's heap, from its newest snapshot.")
        let lastSeen = CollectorMetrics.name(
            "host_last_seen_timestamp", "seconds", "Unix time of the host's newest snapshot.")
        for row in rows {
            let labels = [("host", row.name), ("service", row.serviceName)]
            registry.makeGauge(descriptor: lastSeen, labels: labels).set(Double(row.lastSeenMs) / 1000)
            if let heapBytes = row.heapBytes {
                registry.makeGauge(descriptor: heap, labels: labels).set(Double(heapBytes))
            }
            if let verdict = row.status {
                registry.makeGauge(descriptor: status, labels: labels).set(Double(HostStatusValue(verdict).rawValue))
                if let rateBytesPerHour = row.rateBytesPerHour, rateBytesPerHour.isFinite {
                    registry.makeGauge(descriptor: rate, labels: labels).set(rateBytesPerHour)
                }
            }
        }
        return registry
    }

    /// How far behind its schedule the loop is: the newest finished pass's own lag, or, once the
    /// pass after it is overdue (running long, or the loop stuck), the time since it fell due.
    private func verdictLoopLagSeconds(now: Date) -> Double {
        guard verdictIntervalSeconds > 0, let pass = latestVerdictPass() else { return 0 }
        let nextDue = pass.startedAt.addingTimeInterval(verdictIntervalSeconds)
        return max(pass.lagSeconds, now.timeIntervalSince(nextDue), 0)
    }
}

/// `leakwatch_host_status`'s values, and the verdict statuses they stand for.
enum HostStatusValue: Int, Sendable {
    case notEnoughData = -1
    case ok = 0
    case growing = 1
    case suspectedLeak = 2

    init(_ verdictStatus: String) {
        switch verdictStatus {
        case "ok": self = .ok
        case "growing": self = .growing
        case "suspectedLeak": self = .suspectedLeak
        default: self = .notEnoughData
        }
    }

    /// As alerts and `collector-cli` write it.
    var name: String {
        switch self {
        case .notEnoughData: "not-enough-data"
        case .ok: "ok"
        case .growing: "growing"
        case .suspectedLeak: "suspected-leak"
        }
    }
}
