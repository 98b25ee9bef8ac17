/// Mann–Kendall test for a monotonic trend, with the Hamed–Rao (1998) variance correction for
/// autocorrelated data.
///
/// Floors of a memory series are strongly autocorrelated (a running minimum shares most of its
/// input with its neighbour; slow wander persists for hours). The plain test treats every point as
/// independent and calls such wander a trend; Hamed–Rao inflates Var(S) by n/n*, estimated from
/// the autocorrelation of the ranks of the detrended series.
public struct MannKendallResult: Sendable, Equatable {
    /// S = Σ_{i<j} sign(y_j − y_i).
    public var s: Double
    /// Var(S) under independence, with the tie correction.
    public var varianceIndependent: Double
    /// n/n*: factor applied to the variance (>= 1 when the correction is used).
    public var varianceCorrection: Double
    /// Continuity-corrected normal score using the corrected variance.
    public var z: Double
    /// One-sided p-value for an upward trend, P(Z >= z).
    public var pValueIncreasing: Double { Math.normalUpperTail(z) }
}

public enum MannKendall {
    /// S statistic and tie-corrected variance. O(n²) comparisons, O(n log n) for ties.
    public static func statistic(_ y: [Double]) -> (s: Double, variance: Double) {
        let count = y.count
        var s = 0
        if count >= 2 {
            for i in 0..<(count - 1) {
                let yi = y[i]
                for j in (i + 1)..<count {
                    let yj = y[j]
                    if yj > yi { s += 1 } else if yj < yi { s -= 1 }
                }
            }
        }
        let n = Double(count)
        var variance = n * (n - 1) * (2 * n + 5)
        // Ties: subtract Σ t(t−1)(2t+5) over groups of equal values.
        let sorted = y.sorted()
        var index = 0
        while index < sorted.count {
            var end = index + 1
            while end < sorted.count && sorted[end] == sorted[index] { end += 1 }
            let t = Double(end - index)
            if t > 1 { variance -= t * (t - 1) * (2 * t + 5) }
            index = end
        }
        return (Double(s), variance / 18)
    }

    /// Full test. `x` are the times (used to detrend for the Hamed–Rao estimate). With
    /// `hamedRao == false` the correction factor is 1.
    /// `minimumCorrection` floors n/n*: a caller that smoothed the series over k neighbours knows
    /// the correction is at least about k, even when too few points are there to estimate it.
    /// `skipCorrectionBelow`: a caller that only asks whether z reaches this score lets the test
    /// skip estimating the correction (a Theil–Sen fit and the ranks' autocorrelation) when z is
    /// below it already: the correction only widens the variance, so a z below a positive bar
    /// stays below it.
    public static func test(
        x: [Double], y: [Double], hamedRao: Bool = true, minimumCorrection: Double = 1, skipCorrectionBelow: Double? = nil
    ) -> MannKendallResult {
        let (s, variance) = statistic(y)
        var correction = 1.0
        let belowBar = skipCorrectionBelow.map { $0 > 0 && score(s: s, variance: variance * max(1, minimumCorrection)) < $0 } ?? false
        if hamedRao, !belowBar, y.count >= 4, let slope = TheilSen.slope(x: x, y: y) {
            let detrended = zip(x, y).map { $0.1 - slope * $0.0 }
            correction = hamedRaoCorrection(ranksOf(detrended))
        }
        correction = max(correction, minimumCorrection)
        return MannKendallResult(
            s: s, varianceIndependent: variance, varianceCorrection: correction, z: score(s: s, variance: variance * correction))
    }

    /// Continuity-corrected normal score of S.
    static func score(s: Double, variance: Double) -> Double {
        guard variance > 0 else { return 0 }
        if s > 0 { return (s - 1) / variance.squareRoot() }
        if s < 0 { return (s + 1) / variance.squareRoot() }
        return 0
    }

    /// n/n* = 1 + 2/(n(n−1)(n−2)) · Σ_k (n−k)(n−k−1)(n−k−2)·ρ_k over the lags whose rank
    /// autocorrelation ρ_k is significant at 5 % (|ρ_k| > 1.96/√n), as in Hamed & Rao (1998).
    /// Never below 1: negative autocorrelation is not allowed to sharpen the test.
    public static func hamedRaoCorrection(_ ranks: [Double]) -> Double {
        let count = ranks.count
        guard count >= 4 else { return 1 }
        let n = Double(count)
        let mean = ranks.reduce(0, +) / n
        let centered = ranks.map { $0 - mean }
        let denominator = centered.reduce(0) { $0 + $1 * $1 }
        guard denominator > 0 else { return 1 }
        let significance = 1.96 / n.squareRoot()
        var sum = 0.0
        for lag in 1..<(count - 2) {
            var numerator = 0.0
            for i in 0..<(count - lag) { numerator += centered[i] * centered[i + lag] }
            let rho = numerator / denominator
            if abs(rho) > significance {
                let k = Double(lag)
                sum += (n - k) * (n - k - 1) * (n - k - 2) * rho
            }
        }
        return max(1, 1 + 2 / (n * (n - 1) * (n - 2)) * sum)
    }

    /// Ranks 1...n with ties given their average rank.
    public static func ranksOf(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: values.count)
        var index = 0
        while index < order.count {
            var end = index + 1
            while end < order.count && values[order[end]] == values[order[index]] { end += 1 }
            let averageRank = Double(index + end + 1) / 2  // ranks index+1 ... end
            for position in index..<end { ranks[order[position]] = averageRank }
            index = end
        }
        return ranks
    }
}
