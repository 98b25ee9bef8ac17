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
        scaled.trafficSmoothingSeconds /= factor
        return scaled
    }

    /// The configuration a fast time scale judges with: durations divided by `scale.factor`, but a
    /// day still a day (traffic lags, the day-long window, day-over-day, traffic observation), so
    /// that at a fast scale only growth larger than a daily cycle can make is judged while traffic
    /// varies.
    public func atFastScale(_ scale: FastTimeScale) -> VerdictConfiguration {
        var fast = compressingTime(by: scale.factor)
        fast.maximumTrafficLagSeconds = maximumTrafficLagSeconds
        fast.trafficLagStepSeconds = trafficLagStepSeconds
        fast.dayOverDaySpanSeconds = dayOverDaySpanSeconds
        fast.dayOverDayLagSeconds = dayOverDayLagSeconds
        fast.minimumTrafficObservationSeconds = minimumTrafficObservationSeconds
        fast.minimumWindowWithVaryingTrafficSeconds = minimumWindowWithVaryingTrafficSeconds
        fast.minimumWindowWhenTrafficExplainsSeconds = minimumWindowWhenTrafficExplainsSeconds
        fast.trafficSmoothingSeconds = trafficSmoothingSeconds
        fast.materialRateFractionPerHour = max(materialRateFractionPerHour, scale.minimumRateFractionPerHour)
        fast.saturationRatio = scale.saturationRatio
        // Young processes: until the base scale could judge on its own, only growth of
        // `warmUpRateFractionPerHour` is judged sooner (warm-ups, caches filling and restarts'
        // warm-ups are straight for an hour or more at up to 50 %/h of the heap).
        fast.warmUpSeconds = gracePeriodSeconds + instanceWindowMarginSeconds + (trendWindowsSeconds.min() ?? 0)
        fast.warmUpMaterialRateFractionPerHour = max(fast.materialRateFractionPerHour, scale.warmUpRateFractionPerHour)
        fast.fastTimeScales = []
        return fast
    }
}
