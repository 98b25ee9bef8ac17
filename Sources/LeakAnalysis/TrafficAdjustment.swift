/// Removes from a floor series the part explained by traffic.
///
/// Daily cycles move memory with traffic, sometimes hours later (caches and queues follow load with
/// a lag). The allocation rate is the traffic signal: the floor is fitted as
/// `a + b·traffic(t − lag) + c·t` for lags 0…`maximumTrafficLagSeconds`; when traffic removes most of
/// the residual variance left by a trend-only fit, `b·traffic(t − lag)` is subtracted and the trend
/// tests run on what is left. The trend term stays in the fit, so a leak on top of a cycle survives.
struct TrafficAdjustment {
    /// Traffic varies enough to be a signal (the day-over-day test applies).
    var trafficVaries: Bool
    /// Traffic explained the floor and the series was adjusted.
    var adjusted: Bool
    var lagSeconds: Double
    var explainedFraction: Double

    /// The rows of `window` (one instance, after its grace period) with the part of their floors
    /// that traffic explains removed, and the same rows unadjusted; when an adjustment is made,
    /// rows without a lagged traffic value are left out of both. `instance` is the whole instance,
    /// grace period included, for deciding whether traffic varies at all.
    static func apply(
        to window: FloorWindow, instance: FloorWindow, bucketSeconds: Double,
        trafficAt: (_ index: Int64, _ instance: Int) -> Double?, configuration: VerdictConfiguration,
        variation: TrafficVariationMemo
    ) -> (adjustment: TrafficAdjustment, adjusted: FloorWindow, unadjusted: FloorWindow) {
        var none = TrafficAdjustment(trafficVaries: false, adjusted: false, lagSeconds: 0, explainedFraction: 0)
        // Judged over the whole instance, grace period included: memory that lags traffic by hours
        // rises while traffic is already flat.
        let current = zip(instance.bucketIndices, instance.instances).compactMap { trafficAt($0, $1) }
        guard variation.varies(current, configuration: configuration) else { return (none, window, window) }
        none.trafficVaries = true

        var best: (reduction: Double, lag: Double, b: Double, mean: Double, rows: [Int], x: [Double])? = nil
        var lag = 0.0
        while lag <= configuration.maximumTrafficLagSeconds + 1e-9 {
            let lagBuckets = Int64((lag / bucketSeconds).rounded())
            var usedRows: [Int] = []
            var xs: [Double] = []
            for row in 0..<window.count {
                if let x = trafficAt(window.bucketIndices[row] - lagBuckets, window.instances[row]) {
                    usedRows.append(row)
                    xs.append(x)
                }
            }
            if usedRows.count >= 12, usedRows.count * 2 >= window.count,
                let fit = fit(t: usedRows.map { window.times[$0] }, x: xs, y: usedRows.map { window.floors[$0] })
            {
                if best == nil || fit.reduction > best!.reduction {
                    let mean = xs.reduce(0, +) / Double(xs.count)
                    best = (fit.reduction, lag, fit.b, mean, usedRows, xs)
                }
            }
            lag += configuration.trafficLagStepSeconds
        }
        guard let chosen = best, chosen.reduction >= configuration.trafficExplainedFraction else { return (none, window, window) }
        let unadjusted = window.rows(at: chosen.rows)
        let adjusted = unadjusted.subtracting(chosen.x.map { chosen.b * ($0 - chosen.mean) })
        let adjustment = TrafficAdjustment(
            trafficVaries: true, adjusted: true, lagSeconds: chosen.lag, explainedFraction: chosen.reduction)
        return (adjustment, adjusted, unadjusted)
    }

    /// Whether the allocation rates of consecutive buckets follow a traffic cycle rather than only
    /// request noise: the spread of their centred moving median must be material against the
    /// median rate and well clear of what the bucket-to-bucket noise alone spreads that median by.
    static func varies(_ rates: [Double], configuration: VerdictConfiguration) -> Bool {
        guard rates.count >= 12, let middle = Quantile.median(rates), middle > 0 else { return false }
        let half = max(1, Int((configuration.trafficSmoothingSeconds / configuration.bucketSeconds / 2).rounded()))
        let smoothed = Quantile.centredMovingMedian(rates, half: half)
        let residuals = zip(rates, smoothed).map { abs($0 - $1) }
        let sortedLevels = smoothed.sorted()
        let low = Quantile.sortedQuantile(sortedLevels, 0.1)
        let high = Quantile.sortedQuantile(sortedLevels, 0.9)
        let noise = Quantile.robustScatter(residuals)
        let smoothingCount = Double(2 * half + 1)
        return (high - low) / middle >= configuration.trafficVariationFraction
            && high - low >= configuration.trafficNoiseMultiple * noise / smoothingCount.squareRoot()
    }

    /// Least squares y = a + b·x + c·t; returns b and the fraction of the trend-only residual sum of
    /// squares that x removes.
    static func fit(t: [Double], x: [Double], y: [Double]) -> (b: Double, reduction: Double)? {
        let n = Double(t.count)
        let tMean = t.reduce(0, +) / n
        let xMean = x.reduce(0, +) / n
        let yMean = y.reduce(0, +) / n
        var stt = 0.0, sxx = 0.0, stx = 0.0, sty = 0.0, sxy = 0.0, syy = 0.0
        for i in 0..<t.count {
            let dt = t[i] - tMean, dx = x[i] - xMean, dy = y[i] - yMean
            stt += dt * dt; sxx += dx * dx; stx += dt * dx
            sty += dt * dy; sxy += dx * dy; syy += dy * dy
        }
        guard stt > 0, sxx > 0 else { return nil }
        let determinant = stt * sxx - stx * stx
        guard determinant > 1e-12 * stt * sxx else { return nil }  // traffic collinear with time
        let b = (stt * sxy - stx * sty) / determinant
        let c = (sxx * sty - stx * sxy) / determinant
        let rssFull = max(0, syy - b * sxy - c * sty)
        let rssTrend = max(0, syy - sty * sty / stt)
        guard rssTrend > 0 else { return nil }
        return (b, 1 - rssFull / rssTrend)
    }
}

/// `TrafficAdjustment.varies` for the series of one judgement: the host and its sites mostly read
/// the same buckets' rates, so the answer for the last rates asked about is kept.
final class TrafficVariationMemo {
    private var last: (rates: [Double], varies: Bool)?

    func varies(_ rates: [Double], configuration: VerdictConfiguration) -> Bool {
        if let last, last.rates == rates { return last.varies }
        let varies = TrafficAdjustment.varies(rates, configuration: configuration)
        last = (rates, varies)
        return varies
    }
}
