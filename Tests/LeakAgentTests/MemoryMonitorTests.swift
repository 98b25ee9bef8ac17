import LeakAgent
import Synchronization
import Testing

/// The seed's real-time monitor: one callback per crossing, hysteresis on the way down.
@Suite("MemoryMonitor")
struct MemoryMonitorTests {
    final class Recorder: Sendable {
        let crossings = Mutex<[ThresholdCrossing]>([])
        var all: [ThresholdCrossing] { crossings.withLock { $0 } }
    }

    private func makeMonitor(_ recorder: Recorder) -> MemoryMonitor {
        MemoryMonitor(thresholds: .init(metric: .heapBytes, warningBytes: 1000, criticalBytes: 2000,
                                        hysteresisFraction: 0.1)) { crossing in
            recorder.crossings.withLock { $0.append(crossing) }
        }
    }

    @Test("one callback per crossing, in both directions, with the threshold crossed")
    func crossings() {
        let recorder = Recorder()
        let monitor = makeMonitor(recorder)
        let readings: [UInt64] = [0, 500, 999, 1000, 1500, 1999, 2000, 2500, 1900, 1799, 500]
        for (index, value) in readings.enumerated() { monitor.observe(value, timestampUnixNanos: Int64(index)) }
        let seen = recorder.all.map { "\($0.from)->\($0.to)@\($0.valueBytes)/\($0.thresholdBytes)" }
        #expect(seen == [
            "normal->warning@1000/1000",
            "warning->critical@2000/2000",
            "critical->warning@1799/2000",
            "warning->normal@500/1000",
        ])
        #expect(recorder.all.map(\.timestampUnixNanos) == [3, 6, 9, 10])
        #expect(monitor.currentLevel == .normal)
    }

    @Test("a value hovering at a threshold fires once, not on every reading")
    func hysteresis() {
        let recorder = Recorder()
        let monitor = makeMonitor(recorder)
        for _ in 0..<50 {
            monitor.observe(1001)
            monitor.observe(950) // within 10% below the warning line: stays warning
        }
        #expect(recorder.all.count == 1)
        #expect(monitor.currentLevel == .warning)
        monitor.observe(899) // more than 10% below: clears
        #expect(recorder.all.count == 2)
        #expect(monitor.currentLevel == .normal)
        monitor.observe(950) // back up, but under the line: nothing
        #expect(recorder.all.count == 2)
    }

    @Test("a jump from normal straight to critical is one crossing, and observe returns it")
    func jumpToCritical() throws {
        let recorder = Recorder()
        let monitor = makeMonitor(recorder)
        let crossing = try #require(monitor.observe(10_000))
        #expect(crossing.from == .normal && crossing.to == .critical)
        #expect(crossing.thresholdBytes == 2000)
        #expect(monitor.observe(10_001) == nil)
        #expect(recorder.all == [crossing])
    }

    @Test("a critical threshold below the warning one is raised to it")
    func criticalNeverBelowWarning() {
        let thresholds = MemoryThresholds(warningBytes: 5000, criticalBytes: 100)
        #expect(thresholds.criticalBytes == 5000)
    }
}
