import Foundation
import Testing
@testable import LeakAgent

/// This test process links LeakAgent but not LeakAgentHooks: the API must say so and still work.
@Suite("Without the hooks")
struct HooksNotInstalledTests {
    @Test("hooksInstalled is false and counters stay zero while the process allocates")
    func reportsNotInstalled() {
        let objects = (0..<1000).map { NSString(format: "object %d", $0) }
        #expect(objects.count == 1000)
        #expect(LeakAgent.hooksInstalled == false)
        let stats = LeakAgent.stats()
        #expect(stats.hooksActive == false)
        #expect(stats.allocationCount == 0)
        #expect(stats.totalAllocatedBytes == 0)
        #expect(stats.currentBytes == 0)
        #expect(stats.peakBytes == 0)
    }

    @Test("an agent thread started without the hooks leaves hooksInstalled false")
    func agentThreadWithoutHooks() {
        let ran = DispatchSemaphore(value: 0)
        AgentThread.spawn(name: "lw-no-hooks") { ran.signal() }
        #expect(ran.wait(timeout: .now() + 10) == .success)
        #expect(LeakAgent.hooksInstalled == false)
        #expect(LeakAgent.stats().agentHeapBytes == 0)
    }

    @Test("every read returns empty results without crashing")
    func everyCallReturns() throws {
        #expect(LeakAgent.patterns().sizeClasses.isEmpty)
        #expect(LeakAgent.patterns(topSizeLimit: 0).topSizes.isEmpty)
        #expect(LeakAgent.sites().isEmpty)
        let report = LeakAgent.leakReport()
        #expect(report.sites.isEmpty)
        #expect(report.text().contains("no live sampled sites"))
        let parsed = try ExitReportJSON(data: Data(report.json().utf8))
        #expect(parsed.sites.isEmpty)
        #expect(parsed.stats["allocationCount"] == 0)
    }

    @Test("the sample interval can be set and read back")
    func sampleMeanRoundTrip() {
        let original = LeakAgent.sampleMeanBytes
        defer { LeakAgent.sampleMeanBytes = original }
        LeakAgent.sampleMeanBytes = 4096
        #expect(LeakAgent.sampleMeanBytes == 4096)
        LeakAgent.sampleMeanBytes = 0
        #expect(LeakAgent.sampleMeanBytes == 0)
    }

    @Test("a heap monitor reads zero; an RSS monitor reads this process's resident set")
    func monitorReadings() {
        let heap = MemoryMonitor(thresholds: .init(metric: .heapBytes, warningBytes: 1, criticalBytes: 2)) { _ in }
        #expect(heap.reading() == 0)
        #expect(heap.observe(heap.reading()) == nil)
        let rss = MemoryMonitor(thresholds: .init(metric: .rssBytes, warningBytes: 1 << 40, criticalBytes: 1 << 41)) { _ in }
        let resident = rss.reading()
        #expect(resident > 1 << 20, "RSS from /proc/self/statm: \(resident)")
        #expect(resident < 1 << 40)
    }
}
