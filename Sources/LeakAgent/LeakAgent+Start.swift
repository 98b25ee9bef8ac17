import CLeakTrackAPI
import LeakWireCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension LeakAgent {
    /// The agent's background parts while it runs.
    final class Running: Sendable {
        let configuration: AgentConfiguration
        let builder: SnapshotBuilder
        let shipper: Shipper?
        let monitor: MemoryMonitor?
        let guardReporter: GuardErrorReporter?

        init(configuration: AgentConfiguration) {
            self.configuration = configuration
            let processStart = ThisProcess.startUnixNanos()
            let builder = SnapshotBuilder(processStartUnixNanos: processStart)
            self.builder = builder
            let shipper = configuration.shipperConfiguration(processStartUnixNanos: processStart).map { shipping in
                Shipper(
                    configuration: shipping,
                    source: { builder.build() },
                    threadStarted: {
                        lt_thread_mark_agent()
                        lt_thread_set_name("leakwatch-ship")
                    },
                    warn: { StandardError.write("leakwatch: \($0)\n") },
                    workGate: BlockingWaitHooks(willWait: { lt_agent_work_end() }, didWait: { lt_agent_work_begin() }))
            }
            self.shipper = shipper
            guardReporter = GuardErrorReporter(record: { builder.record($0) }, ship: {
                // The process may be about to die of it (crash mode): the collector must have it first.
                _ = shipper?.shipNowAndWait(seconds: Running.memoryErrorDeliverySeconds)
            })
            let callback = configuration.onThresholdCrossing
            monitor = configuration.thresholds.map { thresholds in
                MemoryMonitor(thresholds: thresholds) { crossing in
                    builder.record(crossing)
                    shipper?.requestImmediateSnapshot()
                    callback?(crossing)
                }
            }
        }

        /// Within the core's LT_GUARD_SETTLE_MILLISECONDS, naming the stacks included.
        static let memoryErrorDeliverySeconds = 1.5

        func start() {
            monitor?.start()
            shipper?.start()
            guardReporter?.start()
        }

        func stop() {
            guardReporter?.stop()
            monitor?.stop()
            shipper?.stop()
        }

        /// The same agent for the child of a fork: a new process instance (its own id, pid and
        /// start time, sequences from 1) that ships on its own.
        func forkedChild() -> Running {
            shipper?.abandonAfterFork()
            return Running(configuration: configuration)
        }
    }

    private static let running = Mutex<Running?>(nil)

    /// Starts the monitor and, with a collector configured, the shipper. Calling it again
    /// replaces the running configuration.
    public static func start(_ configuration: AgentConfiguration) {
        sampleMeanBytes = configuration.sampleMeanBytes
        let agent = Running(configuration: configuration)
        let previous = running.withLock { current in
            defer { current = agent }
            return current
        }
        previous?.stop()
        agent.start()
        lt_set_restart_after_fork(agent.shipper == nil ? 0 : 1)
    }

    /// Run by the C core on a thread of its own in the child of a fork (see fork.c).
    static func restartInForkedChild() {
        let child = running.withLock { current -> Running? in
            guard let inherited = current else { return nil }
            current = inherited.forkedChild()
            return current
        }
        child?.start()
    }

    /// Starts from LEAKWATCH_* environment variables. A bad value prints one line on stderr and
    /// leaves the agent off; the program always runs. Returns whether the agent started.
    @discardableResult
    public static func startFromEnvironment() -> Bool {
        do {
            start(try AgentConfiguration.fromEnvironment(AgentConfiguration.processEnvironment()))
            return true
        } catch {
            sampleMeanBytes = 0
            lt_set_restart_after_fork(0)
            StandardError.write("\(error)\n")
            return false
        }
    }

    public static func stop() {
        lt_set_restart_after_fork(0)
        running.withLock { current in
            defer { current = nil }
            return current
        }?.stop()
    }

    /// Ships a snapshot now (no-op when not shipping). Never blocks.
    public static func shipSnapshotNow() {
        running.withLock { $0 }?.shipper?.requestImmediateSnapshot()
    }

    /// Where and how the agent ships, when shipping.
    static var shipping: LeakReport.Shipping? {
        running.withLock { $0 }?.shipper.map { shipper in
            LeakReport.Shipping(collector: "\(shipper.configuration.collectorHost):\(shipper.configuration.collectorPort)",
                                statistics: shipper.statistics)
        }
    }

    /// The shipper's counters, when shipping.
    public static var shipperStatistics: ShipperStatistics? {
        running.withLock { $0 }?.shipper?.statistics
    }
}

/// Called by the preload library's constructor: starts the agent when the environment names a
/// collector, and otherwise only checks the settings it reads.
@_cdecl("leakwatch_preload_start")
public func leakwatchPreloadStart() {
    let environment = AgentConfiguration.processEnvironment()
    if environment["LEAKWATCH_CHECK"] == "1" {
        let (succeeded, report) = ConnectionCheck.run(environment: environment)
        StandardError.write(report)
        _exit(succeeded ? 0 : 1)
    }
    guard environment["LEAKWATCH_COLLECTOR"] != nil else {
        do { _ = try AgentConfiguration.fromEnvironment(environment) } catch {
            LeakAgent.sampleMeanBytes = 0
            StandardError.write("\(error)\n")
        }
        return
    }
    LeakAgent.startFromEnvironment()
}

@_cdecl("leakwatch_after_fork_in_child")
public func leakwatchAfterForkInChild() {
    lt_thread_mark_agent()
    lt_thread_set_name("leakwatch-fork")
    LeakAgent.restartInForkedChild()
}

extension AgentConfiguration {
    /// What the shipper of this process needs; nil without a collector.
    func shipperConfiguration(processStartUnixNanos: Int64) -> ShipperConfiguration? {
        collector.map { collector in
            ShipperConfiguration(
                collectorHost: collector.host, collectorPort: Int(collector.port), token: token, tls: tls,
                hostName: hostName, serviceName: serviceName,
                intervalSeconds: intervalSeconds, spoolLimitBytes: spoolLimitBytes,
                processStartUnixNanos: processStartUnixNanos, agentVersion: ThisProcess.agentVersion,
                sampleMeanBytes: sampleMeanBytes)
        }
    }
}

/// What the agent tells the collector about the process it runs in, beside its host and service
/// names (the collector's `ProcessIdentity` is the stored record of a process, a different thing).
enum ThisProcess {
    static let agentVersion = "0.1.0"

    /// When this process started: /proc/self/stat's start time (clock ticks after boot) plus
    /// the boot time from /proc/stat; now, where /proc cannot tell.
    static func startUnixNanos() -> Int64 {
        let now = WallClock.nowUnixNanos()
        guard let stat = ProcessMemory.readSmallFile("/proc/self/stat"),
              let afterName = stat.lastIndex(of: ")"),
              let system = ProcessMemory.readSmallFile("/proc/stat"),
              let bootLine = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let bootSeconds = Int64(bootLine.dropFirst("btime ".count)) else { return now }
        let fields = stat[stat.index(after: afterName)...].split(separator: " ")
        // Field 22 of stat is starttime; after the ")" the list starts at field 3.
        guard fields.count > 19, let ticks = Int64(fields[19]) else { return now }
        let ticksPerSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return bootSeconds * 1_000_000_000 + ticks * (1_000_000_000 / max(ticksPerSecond, 1))
    }
}
