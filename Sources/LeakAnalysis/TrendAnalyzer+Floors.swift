/// How the bucket floors are smoothed before the rate, the thirds and the scatter are measured.
public enum FloorSmoothing: String, Sendable, Hashable {
    /// Minimum over the trailing `runningMinimumSeconds`. Removes sawtooth and peaks shorter than
    /// the span, but a ramp comes out `runningMinimumSeconds` late: a growth that began less than
    /// that long ago is still flat in it, so a short window that starts where the growth began
    /// looks like a step.
    case trailingMinimum
    /// Morphological opening: minimum over a span centred on each bucket, then maximum of those
    /// minima over the same span (`runningMinimumSeconds`). Removes the same sawtooth and peaks up
    /// to the span, and leaves a ramp where it is. At the newest end the span is cut short, so a
    /// ramp there lags by half the span and only peaks up to half the span are removed.
    case opening
}

extension TrendAnalyzer {
    /// The smoothed floor of every bucket, per `configuration.floorSmoothing`, within instances.
    func smoothedFloors(_ buckets: [FloorBucket], times: [Double]) -> [Double] {
        switch configuration.floorSmoothing {
        case .trailingMinimum: runningMinimum(buckets, times: times)
        case .opening: opening(buckets, times: times)
        }
    }

    /// Newest bucket time whose smoothed floor is settled, given the newest bucket time: with the
    /// opening, the last half-span is cut short (a ramp there is flattened), so it is left out of
    /// the rate, the thirds and the scatter (the trend test still sees the bucket floors).
    func settledFloorEnd(_ newestSeconds: Double) -> Double {
        switch configuration.floorSmoothing {
        case .trailingMinimum: newestSeconds
        case .opening: newestSeconds - configuration.runningMinimumSeconds / 2 + 1e-9 * configuration.bucketSeconds
        }
    }

    /// Running minimum of the bucket floors over the last `runningMinimumSeconds`, within an instance.
    func runningMinimum(_ buckets: [FloorBucket], times: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: buckets.count)
        var windowStart = 0
        for k in buckets.indices {
            while windowStart < k
                && (buckets[windowStart].instance != buckets[k].instance
                    || times[windowStart] <= times[k] - configuration.runningMinimumSeconds)
            {
                windowStart += 1
            }
            var minimum = buckets[k].floorBytes
            for j in windowStart..<k where buckets[j].floorBytes < minimum { minimum = buckets[j].floorBytes }
            result[k] = minimum
        }
        return result
    }

    /// Opening (erosion then dilation) of the bucket floors over `runningMinimumSeconds`, centred,
    /// within an instance. O(n·k) for k buckets per span.
    func opening(_ buckets: [FloorBucket], times: [Double]) -> [Double] {
        let half = configuration.runningMinimumSeconds / 2 + 1e-9 * configuration.bucketSeconds
        let eroded = centred(buckets.map(\.floorBytes), buckets, times: times, half: half, by: <)
        return centred(eroded, buckets, times: times, half: half, by: >)
    }

    /// The extreme (per `better`) of `values` over the buckets of the same instance within `half`
    /// seconds either side of each bucket.
    private func centred(
        _ values: [Double], _ buckets: [FloorBucket], times: [Double], half: Double, by better: (Double, Double) -> Bool
    ) -> [Double] {
        var result = values
        var low = 0
        var high = 0
        for k in buckets.indices {
            while low < k && (buckets[low].instance != buckets[k].instance || times[low] < times[k] - half) { low += 1 }
            if high < k { high = k }
            while high + 1 < buckets.count && buckets[high + 1].instance == buckets[k].instance && times[high + 1] <= times[k] + half {
                high += 1
            }
            var extreme = values[k]
            for j in low...high where better(values[j], extreme) { extreme = values[j] }
            result[k] = extreme
        }
        return result
    }
}
