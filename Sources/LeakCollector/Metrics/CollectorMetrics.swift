import LeakWire
import Prometheus

/// The collector's own health, counted where the work happens: connections, ingest, rejected
/// frames, authentication, commits, verdict passes and alert hooks. One instance per collector;
/// every instrument is safe to touch from any thread. A counter is one atomic add, so the ingest
/// path pays nothing it would notice; histograms take a lock, and are touched once per commit
/// or verdict pass, never per frame.
public final class CollectorMetrics: Sendable {
    /// Holds every instrument below; the scrape renders it.
    let registry = PrometheusCollectorRegistry()

    let ingestedSnapshots: Counter
    let ingestedBytes: Counter
    let authenticationFailures: Counter
    let commitDuration: DurationHistogram
    let verdictPassDuration: DurationHistogram
    let openConnections: Gauge
    let databaseSize: Gauge
    let verdictLoopLag: Gauge
    let alertsDropped: Counter

    public init() {
        ingestedSnapshots = registry.makeCounter(descriptor: Self.name(
            "ingested_snapshots", "total", "Snapshots committed to the store (duplicates not counted)."))
        ingestedBytes = registry.makeCounter(descriptor: Self.name(
            "ingested", "bytes_total", "Wire bytes (compressed frames) of the snapshots committed to the store."))
        authenticationFailures = registry.makeCounter(descriptor: Self.name(
            "authentication_failures", "total", "Handshakes refused for a wrong proof of the fleet token."))
        // A commit of a batch takes ~1 ms at low load and tens of ms for thousands of snapshots.
        commitDuration = registry.makeDurationHistogram(
            descriptor: Self.name("commit_duration", "seconds", "Time to write and commit one ingest transaction."),
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
        verdictPassDuration = registry.makeDurationHistogram(
            descriptor: Self.name("verdict_pass_duration", "seconds", "Wall time of one verdict pass over the fleet."),
            buckets: [.milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
                      .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300)])
        openConnections = registry.makeGauge(descriptor: Self.name(
            "open_connections", "", "TCP connections open on the agents' port (agents and collector-cli)."))
        databaseSize = registry.makeGauge(descriptor: Self.name(
            "database_size", "bytes", "Size of the SQLite database file and its write-ahead log."))
        verdictLoopLag = registry.makeGauge(descriptor: Self.name(
            "verdict_loop_lag", "seconds", "How far the verdict loop is behind its schedule: 0 while passes start on time and finish within the interval."))
        alertsDropped = registry.makeCounter(descriptor: Self.name(
            "alerts_dropped", "total", "Alerts not run because the alert hook's queue was full."))
    }

    /// A peer's frame answered with an Error frame: counted by its protocol error code (a bounded
    /// set), and as an authentication failure when it is one. A handshake that timed out refused
    /// no frame (none came) and is not counted.
    func refusedFrame(_ code: Leakwatch_V1_ErrorCode) {
        guard code != .handshakeTimeout else { return }
        if code == .authenticationFailed { authenticationFailures.increment() }
        registry.makeCounter(
            descriptor: Self.name("rejected_frames", "total", "Frames refused with an Error frame, by error code."),
            labels: [("code", Self.labelValue(code))]
        ).increment()
    }

    /// `frameTooLarge` → `frame_too_large`, the metrics' own style.
    static func labelValue(_ code: Leakwatch_V1_ErrorCode) -> String {
        "\(code)".reduce(into: "") { label, character in
            if character.isUppercase { label += "_" + character.lowercased() } else { label.append(character) }
        }
    }

    /// One alert hook run, by how it ended: "succeeded", "failed" or "timed_out".
    func alertHookRun(result: String) {
        registry.makeCounter(
            descriptor: Self.name("alert_hook_runs", "total", "Runs of the alert hook, by how they ended."),
            labels: [("result", result)]
        ).increment()
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "leakwatch", metricName: metric, unitName: unit, helpText: help)
    }
}
