import Testing

@testable import LeakAnalysis

@Suite("Compressed time")
struct TimeScaleTests {
    /// Every duration is divided by the factor; thresholds that are not durations stay as they are.
    @Test func everyDurationIsScaled() {
        let base = VerdictConfiguration()
        let scaled = base.compressingTime(by: 60)
        #expect(scaled.windowSeconds == base.windowSeconds / 60)
        #expect(scaled.bucketSeconds == base.bucketSeconds / 60)
        #expect(scaled.runningMinimumSeconds == base.runningMinimumSeconds / 60)
        #expect(scaled.gracePeriodSeconds == base.gracePeriodSeconds / 60)
        #expect(scaled.trendWindowsSeconds == base.trendWindowsSeconds.map { $0 / 60 })
        #expect(scaled.maximumTrafficLagSeconds == base.maximumTrafficLagSeconds / 60)
        #expect(scaled.trafficLagStepSeconds == base.trafficLagStepSeconds / 60)
        #expect(scaled.dayOverDaySpanSeconds == base.dayOverDaySpanSeconds / 60)
        #expect(scaled.dayOverDayLagSeconds == base.dayOverDayLagSeconds / 60)
        #expect(scaled.priorLevelSeconds == base.priorLevelSeconds / 60)
        #expect(scaled.minimumTrafficObservationSeconds == base.minimumTrafficObservationSeconds / 60)
        #expect(scaled.minimumInstanceTrendSeconds == base.minimumInstanceTrendSeconds / 60)
        #expect(scaled.minimumWindowWithVaryingTrafficSeconds == base.minimumWindowWithVaryingTrafficSeconds / 60)
        #expect(scaled.minimumWindowWhenTrafficExplainsSeconds == base.minimumWindowWhenTrafficExplainsSeconds / 60)
        #expect(scaled.confirmationSeconds == base.confirmationSeconds / 60)
        #expect(scaled.instanceWindowMarginSeconds == base.instanceWindowMarginSeconds / 60)
        #expect(scaled.minimumOnsetWindowSeconds == base.minimumOnsetWindowSeconds / 60)
        #expect(scaled.leakZ == base.leakZ)
        #expect(scaled.onsetAllowanceFraction == base.onsetAllowanceFraction)
        #expect(scaled.materialGrowthFraction == base.materialGrowthFraction)
        #expect(base.compressingTime(by: 1) == base)
    }
}
