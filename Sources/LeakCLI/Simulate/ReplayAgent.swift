import Foundation
import LeakWire

/// Replays one host's series through the real protocol, as an agent would send it: one
/// connection per process instance (a pid change is a restart), sequence numbers from 1, stacks
/// defined once per connection, up to `window` snapshots in flight before waiting for Acks.
///
/// `send(before:)` may stop at any moment of the series and go on later from the next row, so a
/// caller can look at what the collector made of the series so far (the verdict evaluation judges
/// a host every 10 minutes of series time this way). One owner, because it holds the connection.
public final class ReplayAgent {
    public struct Summary: Sendable {
        public var host: String
        public var snapshots = 0
        public var instances = 0
        public var bytesSent = 0
    }

    let series: ReplaySeries
    let service: String
    let endpoint: CollectorEndpoint
    let token: [UInt8]
    let startUnixNanos: Int64
    /// Stack id each `site_id` is sent as.
    let stackIDs: [String: UInt64]
    let window: Int
    let tls: TLSClientContext?
    let connectTimeoutSeconds: Double
    let requestTimeoutSeconds: Double

    private struct Instance {
        var connection: BlockingConnection
        var sequence: UInt64 = 0
        var acknowledged: UInt64 = 0
        var definedStacks: Set<UInt64> = []
        var startSeconds: Double
        var peakBytes: UInt64 = 0
        /// Totals sent so far: the collector rejects a snapshot whose totals run backwards
        /// (docs/PROTOCOL.md, "Validation"), and a series' free_count column need not be a total
        /// (the synthetic series derive it from the heap, so it dips when the heap jumps).
        var allocationCount: UInt64 = 0
        var freeCount: UInt64 = 0
    }

    private var instance: Instance?
    private var currentPID: UInt32?
    private var nextRow = 0
    public private(set) var summary: Summary

    /// - Parameter startUnixNanos: the time `t_seconds` 0 stands for.
    public init(
        series: ReplaySeries, service: String, endpoint: CollectorEndpoint, token: [UInt8], startUnixNanos: Int64,
        stackIDs: [String: UInt64], window: Int = 64, tls: TLSClientContext? = nil,
        connectTimeoutSeconds: Double = 5, requestTimeoutSeconds: Double = 30
    ) {
        self.series = series
        self.service = service
        self.endpoint = endpoint
        self.token = token
        self.startUnixNanos = startUnixNanos
        self.stackIDs = stackIDs
        self.window = window
        self.tls = tls
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.summary = Summary(host: series.host)
    }

    deinit { instance?.connection.close() }

    /// Sends the whole series and closes the connection.
    /// - Parameter speed: replay speed as a multiple of real time from `clockStart`; nil: as fast
    ///   as the collector acknowledges.
    public func run(speed: Double?, clockStart: Date) throws -> Summary {
        try send(before: .infinity, pacing: speed.map { (speed: $0, clockStart: clockStart) })
        close()
        return summary
    }

    /// Sends the rows not sent yet whose `t_seconds` is below `tSeconds`, then waits until the
    /// collector has acknowledged every snapshot sent: on return all of them are committed.
    public func send(before tSeconds: Double, pacing: (speed: Double, clockStart: Date)? = nil) throws {
        while nextRow < series.rows.count && series.rows[nextRow].tSeconds < tSeconds {
            let row = series.rows[nextRow]
            if let pacing {
                let due = pacing.clockStart.addingTimeInterval((row.tSeconds - series.rows[0].tSeconds) / pacing.speed)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            }
            if currentPID != row.pid || instance == nil {
                if var previous = instance {
                    try drain(&previous)
                    summary.bytesSent += previous.connection.bytesSent
                    previous.connection.close()
                    instance = nil
                }
                instance = try open(pid: row.pid, first: row, ordinal: summary.instances)
                currentPID = row.pid
                summary.instances += 1
            }
            try send(row, instance: &instance!)
            summary.snapshots += 1
            nextRow += 1
        }
        if var current = instance {
            try drain(&current)
            instance = current
        }
    }

    /// Closes the open connection, if any (the collector sees the agent leave).
    public func close() {
        guard let current = instance else { return }
        summary.bytesSent += current.connection.bytesSent
        current.connection.close()
        instance = nil
    }

    private func open(pid: UInt32, first row: ReplaySeries.Row, ordinal: Int) throws -> Instance {
        var options = BlockingConnection.Options(connectTimeoutSeconds: connectTimeoutSeconds, ioTimeoutSeconds: requestTimeoutSeconds)
        options.tls = tls
        let connection: BlockingConnection
        do {
            connection = try BlockingConnection.connect(host: endpoint.host, port: endpoint.port, options: options)
        } catch let error as WireError {
            throw CLIError.collectorUnreachable.with("cannot reach the collector at \(endpoint): \(error.detail)")
        }
        // A process first seen while already running started `uptimeSeconds` before its first row.
        let startSeconds = row.tSeconds - (row.uptimeSeconds ?? 0)
        let hello = Wire.Hello(
            role: .agent, hostName: series.host, serviceName: service,
            processInstanceID: Self.instanceID(host: series.host, pid: pid, ordinal: ordinal), pid: pid,
            processStartUnixNanos: startUnixNanos + Int64(startSeconds * 1e9),
            agentVersion: "collector-cli simulate \(CollectorCLI.version)", sampleMeanBytes: 512 << 10)
        do {
            _ = try connection.handshake(hello: hello, token: token)
        } catch let error as WireError
            where error == .authenticationFailed || (error == .remoteError && error.detail.contains("authenticationFailed")) {
            connection.close()
            throw CLIError.authenticationRefused.with(
                "the collector at \(endpoint) refused host \(series.host): \(error.detail); check the fleet token")
        } catch {
            connection.close()
            throw CLIError.collectorFailed.with("handshake for host \(series.host) failed: \(error)")
        }
        return Instance(connection: connection, startSeconds: startSeconds)
    }

    /// 16 bytes derived from host, pid and restart ordinal (FNV-1a): a rerun of the same files
    /// is recognised by the collector as the same instances, whose duplicates it ignores.
    static func instanceID(host: String, pid: UInt32, ordinal: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for salt in 0..<2 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325 &+ UInt64(salt)
            for byte in Array("\(host)|\(pid)|\(ordinal)|\(salt)".utf8) {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: hash >> UInt64(shift))) }
        }
        return bytes
    }

    private func send(_ row: ReplaySeries.Row, instance: inout Instance) throws {
        instance.sequence += 1
        instance.peakBytes = max(instance.peakBytes, row.heapBytes)
        var snapshot = Leakwatch_V1_Snapshot()
        snapshot.sequence = instance.sequence
        snapshot.timestampUnixNanos = startUnixNanos + Int64(row.tSeconds * 1e9)
        snapshot.stats.currentBytes = row.heapBytes
        snapshot.stats.peakBytes = instance.peakBytes
        snapshot.stats.rssBytes = row.rssBytes
        instance.allocationCount = max(instance.allocationCount, row.allocationCount)
        instance.freeCount = max(instance.freeCount, row.freeCount)
        snapshot.stats.allocationCount = instance.allocationCount
        snapshot.stats.freeCount = instance.freeCount
        snapshot.stats.blocksOutstanding = Int64(clamping: instance.allocationCount) - Int64(clamping: instance.freeCount)
        snapshot.stats.uptimeSeconds = row.tSeconds - instance.startSeconds
        for sample in series.sites[row.tSeconds] ?? [] {
            guard let stackID = stackIDs[sample.siteID] else { continue }
            var site = Leakwatch_V1_Site()
            site.stackID = stackID
            site.liveBytes = sample.liveBytes
            snapshot.sites.append(site)
            if instance.definedStacks.insert(stackID).inserted {
                var frame = Leakwatch_V1_Frame()
                frame.function = sample.siteID
                frame.image = "simulated"
                var stack = Leakwatch_V1_Stack()
                stack.id = stackID
                stack.frames = [frame]
                snapshot.stacks.append(stack)
            }
        }
        do {
            try instance.connection.send(.snapshot(snapshot))
            while instance.sequence - instance.acknowledged >= UInt64(window) {
                try receiveAck(&instance)
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.collectorFailed.with("replaying host \(series.host) at t=\(row.tSeconds) s failed: \(error)")
        }
    }

    private func receiveAck(_ instance: inout Instance) throws {
        let message = try instance.connection.receive()
        switch message {
        case .ack(let ack):
            instance.acknowledged = max(instance.acknowledged, ack.sequence)
        case .error(let error):
            throw CLIError.collectorFailed.with("the collector rejected a snapshot of host \(series.host): \(CollectorClient.describe(error))")
        default:
            throw CLIError.collectorFailed.with("expected an Ack from the collector, got \(message.name)")
        }
    }

    /// Waits until every snapshot sent on this connection is committed.
    private func drain(_ instance: inout Instance) throws {
        do {
            while instance.acknowledged < instance.sequence { try receiveAck(&instance) }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.collectorFailed.with("waiting for Acks of host \(series.host) failed: \(error)")
        }
    }
}
