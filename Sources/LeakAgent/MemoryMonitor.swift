import CLeakTrackAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Warning and critical thresholds on the heap or on the resident set.
public struct MemoryThresholds: Sendable, Equatable {
    public enum Metric: String, Sendable { case heapBytes, rssBytes }

    public var metric: Metric
    public var warningBytes: UInt64
    public var criticalBytes: UInt64
    /// A level clears only once the value falls this fraction below its threshold, so a value
    /// hovering at the line fires once, not on every reading.
    public var hysteresisFraction: Double

    public init(metric: Metric = .heapBytes, warningBytes: UInt64, criticalBytes: UInt64,
                hysteresisFraction: Double = 0.10) {
        self.metric = metric
        self.warningBytes = warningBytes
        self.criticalBytes = max(criticalBytes, warningBytes)
        self.hysteresisFraction = hysteresisFraction
    }
}

public enum MemoryLevel: Int, Sendable, Comparable {
    case normal, warning, critical
    public static func < (a: MemoryLevel, b: MemoryLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One change of level; the callback receives each exactly once.
public struct ThresholdCrossing: Sendable, Equatable {
    public var metric: MemoryThresholds.Metric
    public var from: MemoryLevel
    public var to: MemoryLevel
    public var valueBytes: UInt64
    public var thresholdBytes: UInt64
    public var timestampUnixNanos: Int64
}

/// The seed's real-time monitor: watches heap bytes or RSS and calls back once per crossing.
public final class MemoryMonitor: Sendable {
    public let thresholds: MemoryThresholds
    public let pollIntervalMilliseconds: Int
    private let onCrossing: @Sendable (ThresholdCrossing) -> Void
    private let level = Mutex(MemoryLevel.normal)
    private let running = Atomic<Bool>(false)

    public init(thresholds: MemoryThresholds, pollIntervalMilliseconds: Int = 200,
                onCrossing: @escaping @Sendable (ThresholdCrossing) -> Void) {
        self.thresholds = thresholds
        self.pollIntervalMilliseconds = pollIntervalMilliseconds
        self.onCrossing = onCrossing
    }

    public var currentLevel: MemoryLevel { level.withLock { $0 } }

    /// The level a value maps to, given the level it comes from (hysteresis on the way down).
    public func level(for value: UInt64, from previous: MemoryLevel) -> MemoryLevel {
        let keep = 1 - thresholds.hysteresisFraction
        let critical = previous == .critical ? UInt64(Double(thresholds.criticalBytes) * keep) : thresholds.criticalBytes
        if value >= critical { return .critical }
        let warning = previous >= .warning ? UInt64(Double(thresholds.warningBytes) * keep) : thresholds.warningBytes
        return value >= warning ? .warning : .normal
    }

    /// Evaluates one reading; fires the callback if the level changed. Returns the crossing.
    @discardableResult
    public func observe(_ value: UInt64, timestampUnixNanos: Int64 = WallClock.nowUnixNanos()) -> ThresholdCrossing? {
        let crossing: ThresholdCrossing? = level.withLock { current in
            let next = level(for: value, from: current)
            guard next != current else { return nil }
            defer { current = next }
            let threshold = next == .critical || current == .critical ? thresholds.criticalBytes : thresholds.warningBytes
            return ThresholdCrossing(metric: thresholds.metric, from: current, to: next, valueBytes: value,
                                     thresholdBytes: threshold, timestampUnixNanos: timestampUnixNanos)
        }
        if let crossing { onCrossing(crossing) }
        return crossing
    }

    public func reading() -> UInt64 {
        switch thresholds.metric {
        case .heapBytes: HeapStats.read().currentBytes
        case .rssBytes: ProcessMemory.residentBytes() ?? 0
        }
    }

    public func start() {
        guard running.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        AgentThread.spawn(name: "leakwatch-mon") { [self] in
            while running.load(ordering: .relaxed) {
                // Under the fork gate, as the shipper's work (see CLeakTrack's fork.c).
                lt_agent_work_begin()
                observe(reading())
                lt_agent_work_end()
                usleep(UInt32(pollIntervalMilliseconds) * 1000)
            }
        }
    }

    public func stop() { running.store(false, ordering: .relaxed) }
}

public enum WallClock {
    public static func nowUnixNanos() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
