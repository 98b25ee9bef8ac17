/// Order statistics on small arrays (`package`: the synthetic evaluation summarises with them too).
package enum Quantile {
    /// 1.4826 · MAD estimates the standard deviation of normal data (1 / Φ⁻¹(3/4)).
    static let madToStandardDeviation = 1.4826

    /// Robust scatter of `deviations` (absolute deviations from a centre or a line): 1.4826 times
    /// their median.
    static func robustScatter(_ deviations: [Double]) -> Double {
        madToStandardDeviation * (median(deviations) ?? 0)
    }

    /// The `q`-quantile (0...1) of `values` with linear interpolation between order statistics
    /// (type 7, the default of R and NumPy). Returns nil for an empty array.
    package static func of(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sortedQuantile(sorted, q)
    }

    static func sortedQuantile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty)
        let position = min(max(q, 0), 1) * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// Median, averaging the two middle values for an even count.
    package static func median(_ values: [Double]) -> Double? { of(values, 0.5) }

    /// Median of each value's neighbourhood `index − half ... index + half`, cut at the ends.
    /// A sorted window slides along the values: O(n·half) element moves instead of a sort per index.
    static func centredMovingMedian(_ values: [Double], half: Int) -> [Double] {
        guard !values.isEmpty else { return [] }
        let half = max(0, half)
        var window: [Double] = []
        window.reserveCapacity(2 * half + 1)
        func insert(_ value: Double) { window.insert(value, at: window.partitioningIndex { $0 >= value }) }
        func remove(_ value: Double) { window.remove(at: window.partitioningIndex { $0 >= value }) }
        for value in values.prefix(half) { insert(value) }
        var medians: [Double] = []
        medians.reserveCapacity(values.count)
        for index in values.indices {
            if index + half < values.count { insert(values[index + half]) }
            if index - half - 1 >= 0 { remove(values[index - half - 1]) }
            medians.append(sortedQuantile(window, 0.5))
        }
        return medians
    }

    /// Median by selection, O(n) expected; reorders `values`. Used for the Theil–Sen slope where the
    /// pairwise-slope array is large.
    static func medianInPlace(_ values: inout [Double]) -> Double? {
        let count = values.count
        guard count > 0 else { return nil }
        let upperMiddle = select(&values, count / 2)
        if count % 2 == 1 { return upperMiddle }
        // After selection every element left of count/2 is <= it: the lower middle is their max.
        var lowerMiddle = -Double.infinity
        for index in 0..<(count / 2) where values[index] > lowerMiddle { lowerMiddle = values[index] }
        return (lowerMiddle + upperMiddle) / 2
    }

    /// Hoare-style quickselect with a deterministic median-of-three pivot.
    private static func select(_ values: inout [Double], _ k: Int) -> Double {
        var low = 0
        var high = values.count - 1
        while low < high {
            let middle = low + (high - low) / 2
            if values[middle] < values[low] { values.swapAt(middle, low) }
            if values[high] < values[low] { values.swapAt(high, low) }
            if values[high] < values[middle] { values.swapAt(high, middle) }
            let pivot = values[middle]
            var i = low
            var j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                high = j
            } else if k >= i {
                low = i
            } else {
                return values[k]
            }
        }
        return values[k]
    }
}
