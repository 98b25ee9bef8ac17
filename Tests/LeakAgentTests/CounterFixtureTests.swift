import LeakTestSupport
import Testing

/// The counters, checked inside real processes linked with LeakAgentHooks: each fixture mode runs a
/// sequence whose effect is known exactly, compares the agent's numbers with it, prints every
/// comparison and exits 0 only when all held.
@Suite("Counters in a hooked process")
struct CounterFixtureTests {
    private func expectClean(_ result: ChildResult, _ checks: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 0, "\(result.summary)", sourceLocation: sourceLocation)
        #expect(result.value("result") == "ok", "\(result.summary)", sourceLocation: sourceLocation)
        #expect(!result.standardOutput.contains("MISMATCH"), "\(result.summary)", sourceLocation: sourceLocation)
        for check in checks {
            #expect(result.value(check) != nil, "the fixture did not check \(check)", sourceLocation: sourceLocation)
        }
    }

    @Test("C: exact stats for a known single-threaded sequence, every entry point, exact peak")
    func exactSequenceInC() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["exact"])
        expectClean(result, ["allocationCount", "freeCount", "totalAllocatedBytes", "currentBytes",
                             "blocksOutstanding", "peakBytes", "peakErrorBound", "hooksActive"])
    }

    @Test("Swift: exact stats for raw malloc family calls and class instances")
    func exactSequenceInSwift() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureSwift", ["exact"])
        expectClean(result, ["hooksInstalled", "allocationCount", "freeCount", "totalAllocatedBytes",
                             "currentBytes", "blocksOutstanding", "peakErrorBound"])
        // 1000 instances and four C blocks: the sequence is not trivially empty.
        #expect(UInt64(result.value("allocationCount") ?? "") == 1004)
    }

    @Test("exact totals after 4 threads x 200k allocations with cross-thread frees (default T, and T=1)",
          arguments: [[], ["1"]])
    func crossThreadStress(sampleMean: [String]) async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["stress"] + sampleMean)
        expectClean(result, ["blocksOutstandingDelta", "currentBytesDelta", "allocationsEqualFrees", "sampledLiveDelta"])
        #expect(UInt64(result.value("allocationsEqualFrees") ?? "") ?? 0 >= 800_000)
    }

    @Test("exact totals after 5000 short-lived threads; the tracker's own memory stays flat")
    func threadChurn() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["churn"])
        expectClean(result, ["blocksOutstandingDelta", "currentBytesDelta", "retiredThreadsAtLeast",
                             "liveThreads", "trackerMemoryBounded"])
    }

    @Test("fork during a multi-threaded stress: every child allocates, counts and exits cleanly")
    func forkDuringStress() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["fork"])
        expectClean(result, ["cleanChildren"])
        #expect(result.value("cleanChildren") == "40")
    }

    @Test("calloc and reallocarray overflow return NULL with ENOMEM; failures are not counted")
    func overflow() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["overflow"])
        expectClean(result, ["callocOverflowNull", "callocOverflowErrno", "reallocarrayOverflowNull",
                             "reallocarrayOverflowErrno", "failedAllocationNotCounted"])
    }

    @Test("patterns: size classes and top exact sizes reflect a known allocation mix")
    func patterns() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["patterns"])
        expectClean(result, ["sampledRecordInFront", "top0.size", "top1.size", "top2.size", "top3.size", "top3.countDelta"])
        #expect(result.value("top0.size") == "24")
        #expect(result.value("top3.size") == "50000")
        #expect(result.standardOutput.contains("class2048.count=6000"))
    }

    @Test("before main and during exit: a constructor's block and TLS-destructor allocations are counted and balance")
    func lifecycle() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["lifecycle"])
        expectClean(result, ["hooksActiveBeforeMain", "constructorBlockCounted", "destructorAllocationsCounted",
                             "destructorTotalsBalance", "destructorBytesBalance"])
    }

    @Test("peak with 4 allocating threads stays within live threads x 16 KiB of the true peak")
    func peakErrorBound() async throws {
        let result = try await ChildProcess.fixture("LeakFixtureC", ["peak"])
        expectClean(result, ["boundIsThreadsTimes16KiB", "peakWithinBound", "worstPeakErrorBytes"])
    }
}
