/// What a trend test measured, on one window of the current instance or on the instances pooled
/// across restarts: the input of the one chain of guards that turns either into a verdict.
struct TrendMeasurement {
    /// Trend score (Mann–Kendall z) and the evidence it gives (1 − its p-value).
    var z: Double
    var evidence: Double
    /// Rate (bytes per second) and the span it is measured over: the growth is their product.
    var slope: Double
    var span: Double
    var sinceSeconds: Double
    var windowSeconds: Double
    var materialRateFractionPerHour: Double
    var leakZ: Double
    /// The reason a verdict that passes every guard gives.
    var leakReason: VerdictReason
    /// Largest rise a daily cycle could make within the window, while one is not ruled out.
    var dailyCycleRise: Double? = nil
    /// Scatter of the floor around the trend line, and the multiple of it the growth must reach.
    var noise: (scatter: Double, minimumRatio: Double)? = nil
    /// The smallest slope of the parts (thirds of a window, or instances) relative to `slope`, and
    /// whether the rise flattens towards the end; nil when the parts cannot be measured (the
    /// verdict then stays `growing`). Measured only for growth that passed the guards before it.
    var shape: () -> (smallestRatio: Double, saturating: Bool)?
    /// Largest fall the series made on its own before; read only by a rise that passed every other
    /// shape guard (the history scan is the costliest).
    var priorFall: () -> Double? = { nil }
    /// The floor's growth over a day, and what the rate predicts over that day.
    var dayOverDay: (growth: Double, expected: Double)? = nil
}

extension TrendAnalyzer {
    /// The guards in order, each against a named false alarm: growth too small to matter, a daily
    /// cycle's rising phase, noise, a one-off step, saturation, wander the series has shown
    /// before, no growth day over day. A rise that passes every guard is `growing`, and a
    /// `suspectedLeak` once its trend score reaches `leakZ`.
    func verdict(_ measured: TrendMeasurement, heapScale: Double) -> TrendVerdict {
        let ratePerHour = measured.slope * 3600
        let growth = measured.slope * measured.span
        var verdict = TrendVerdict(
            status: .growing, reason: .weakTrend, rateBytesPerHour: ratePerHour, sinceSeconds: measured.sinceSeconds,
            confidence: measured.evidence * 0.5, windowSeconds: measured.windowSeconds, trendScore: measured.z)
        guard ratePerHour >= measured.materialRateFractionPerHour * heapScale,
            growth >= configuration.materialGrowthFraction * heapScale
        else {
            verdict.status = .ok
            verdict.reason = .notMaterial
            verdict.sinceSeconds = nil
            verdict.confidence = measured.evidence * 0.25
            return verdict
        }
        func heldBack(_ reason: VerdictReason) -> TrendVerdict {
            verdict.holdBack(reason)
            return verdict
        }
        if let rise = measured.dailyCycleRise, growth <= rise { return heldBack(.possibleDailyCycle) }
        if let noise = measured.noise, growth < noise.minimumRatio * noise.scatter { return heldBack(.withinNoise) }
        guard let shape = measured.shape() else { return verdict }
        if shape.smallestRatio < configuration.minimumThirdSlopeRatio { return heldBack(.stepLike) }
        if shape.saturating { return heldBack(.saturating) }
        if let fall = measured.priorFall(), growth < configuration.priorSwingRatio * fall { return heldBack(.withinPastSwings) }
        if let day = measured.dayOverDay, day.growth < configuration.dayOverDayRatio * day.expected {
            return heldBack(.noDayOverDayGrowth)
        }
        // Every guard passed: a steady rise, only not yet conclusive below `leakZ`.
        guard measured.z >= measured.leakZ else { return verdict }
        verdict.status = .suspectedLeak
        verdict.reason = measured.leakReason
        verdict.confidence = measured.evidence * (0.5 + 0.5 * min(1, shape.smallestRatio))
        return verdict
    }
}
