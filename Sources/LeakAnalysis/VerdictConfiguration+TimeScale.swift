extension VerdictConfiguration {
    /// The same configuration with every duration divided by `factor`: a demo or a replay test
    /// that compresses hours into seconds keeps the verdict logic and its thresholds unchanged.
    /// Rates stay per real hour of snapshot time.
    public func compressingTime(by factor: Double) -> VerdictConfiguration {
        guard factor > 0, factor != 1 else { return self }
        var scaled = self
        scaled.windowSeconds /= factor
        scaled.bucketSeconds /= factor
        scaled.runningMinimumSeconds /= factor
        scaled.gracePeriodSeconds /= factor
        scaled.trendWindowsSeconds = trendWindowsSeconds.map { $0 / factor }
        scaled.maximumTrafficLagSeconds /= factor
        scaled.trafficLagStepSeconds /= factor
        scaled.dayOverDaySpanSeconds /= factor
        scaled.dayOverDayLagSeconds /= factor
        scaled.priorLevelSeconds /= factor
        scaled.minimumTrafficObservationSeconds /= factor
        scaled.minimumInstanceTrendSeconds /= factor
        scaled.minimumWindowWithVaryingTrafficSeconds /= factor
        scaled.minimumWindowWhenTrafficExplainsSeconds /= factor
        scaled.confirmationSeconds /= factor
        scaled.instanceWindowMarginSeconds /= factor
        scaled.minimumOnsetWindowSeconds /= factor
        scaled.maximumOnsetWindowSeconds /= factor
        return scaled
    }
}
