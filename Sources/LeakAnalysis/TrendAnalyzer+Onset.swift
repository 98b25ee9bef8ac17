/// Where the current growth began: a one-sided CUSUM (Page 1954) on the increments of the floor.
///
/// Fixed trailing windows wait for a whole window to lie inside the growth: while a window still
/// holds the flat stretch before the growth began, its first third is flat and the window reads as
/// a step. The CUSUM accumulates the increments of the floor less an allowance (half the smallest
/// material rate); it falls back to zero wherever the floor is not growing faster than that, so the
/// last time it was zero is the onset of the growth that is going on now. The window from the onset
/// to now then faces the same battery of tests as every other window, as soon as it is
/// `minimumOnsetWindowSeconds` long: a steady leak is judged on all the evidence it has built up,
/// not after a fixed window has filled.
struct GrowthOnset: Equatable {
    /// Start of the bucket where the CUSUM last stood at zero.
    var startSeconds: Double
    /// The CUSUM now: growth since the onset less the allowance, bytes.
    var accumulatedBytes: Double
}

extension TrendAnalyzer {
    /// - Parameters:
    ///   - times, values: the buckets to scan (oldest first, one instance, after its grace period)
    ///     and their floors.
    func growthOnset(times: [Double], values: [Double], heapScale: Double, nowSeconds: Double) -> GrowthOnset? {
        let lookback = nowSeconds - configuration.maximumOnsetWindowSeconds
        let scanned = times.indices.filter { times[$0] >= lookback }
        guard scanned.count >= 2 else { return nil }
        let allowancePerSecond = configuration.onsetAllowanceFraction * configuration.materialRateFractionPerHour * heapScale / 3600
        var sum = 0.0
        var onsetRow = scanned[0]
        for (previous, row) in zip(scanned, scanned.dropFirst()) {
            sum += values[row] - values[previous] - allowancePerSecond * (times[row] - times[previous])
            if sum <= 0 {
                sum = 0
                onsetRow = row
            }
        }
        guard sum > 0 else { return nil }
        return GrowthOnset(startSeconds: times[onsetRow] - configuration.bucketSeconds / 2, accumulatedBytes: sum)
    }
}
