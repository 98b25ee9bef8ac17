/// Theil–Sen slope: the median of the slopes of all pairs of points. Robust to up to ~29 % of
/// outliers, unlike least squares, so one GC spike or one step does not set the rate.
public enum TheilSen {
    /// Median pairwise slope of (x, y) in y-units per x-unit; pairs with equal x are skipped.
    /// Returns nil with fewer than two distinct x. O(n²) pairs, median by selection.
    public static func slope(x: [Double], y: [Double]) -> Double? {
        precondition(x.count == y.count, "x and y must have the same length")
        let count = x.count
        guard count >= 2 else { return nil }
        var slopes: [Double] = []
        slopes.reserveCapacity(count * (count - 1) / 2)
        for i in 0..<(count - 1) {
            for j in (i + 1)..<count {
                let dx = x[j] - x[i]
                if dx != 0 { slopes.append((y[j] - y[i]) / dx) }
            }
        }
        return Quantile.medianInPlace(&slopes)
    }

    /// Intercept paired with `slope`: median of y − slope·x.
    public static func intercept(x: [Double], y: [Double], slope: Double) -> Double? {
        Quantile.median(zip(x, y).map { $0.1 - slope * $0.0 })
    }
}
