/// The verdict on one floor series (a host total or a site). See `LeakAnalyzer` for the pipeline.
struct TrendAnalyzer {
    let configuration: VerdictConfiguration
    /// Shared by the series of one judgement (host and sites, one traffic).
    let trafficVariation = TrafficVariationMemo()

    /// - Parameters:
    ///   - buckets: the series' floor buckets, oldest first, already cut to the window.
    ///   - heapScale: bytes the materiality thresholds are relative to (the host's heap floor).
    ///   - nowSeconds: end of the newest bucket.
    ///   - trafficAt: allocation rate of the host at (bucket index, instance), nil if unknown.
    func analyze(
        _ buckets: [FloorBucket], heapScale: Double, nowSeconds: Double,
        trafficAt: (Int64, Int) -> Double?
    ) -> TrendVerdict {
        guard let last = buckets.last, heapScale > 0 else { return .ok(.insufficientData) }
        let bucketSeconds = configuration.bucketSeconds
        let times = buckets.map { (Double($0.index) + 0.5) * bucketSeconds }
        var floors = smoothedFloors(buckets, times: times)
        // The trend test runs on the bucket floors themselves (independent enough for Hamed–Rao to
        // handle); the rate, thirds and scatter on their running minimum (sawtooth removed).
        var testFloors = configuration.trendTestOnBucketFloors ? buckets.map(\.floorBytes) : floors
        let rawTestFloors = testFloors

        // Current instance, after its grace period.
        let currentInstance = last.instance
        let graceEnd = last.instanceStartSeconds + configuration.gracePeriodSeconds
        var rows = buckets.indices.filter {
            buckets[$0].instance == currentInstance && times[$0] - bucketSeconds / 2 >= graceEnd
        }
        let rawFloors = floors
        let instanceRows = buckets.indices.filter { buckets[$0].instance == currentInstance }
        let firstSeenSeconds = times[instanceRows.first!] - bucketSeconds / 2
        // The first trend test needs the shortest window's worth of buckets after the grace period.
        let firstTestableStart = rows.first.map { times[$0] - bucketSeconds / 2 } ?? max(graceEnd, firstSeenSeconds)
        let shortestWindow = configuration.trendWindowsSeconds.min() ?? 0
        let notYetTestable = TrendVerdict.insufficientData(
            moreNeededSeconds: firstTestableStart + shortestWindow + bucketSeconds - nowSeconds)
        var current = notYetTestable
        if rows.count >= 8 {
            let traffic = TrafficAdjustment.apply(
                times: times, floors: &floors, alsoAdjusting: &testFloors, rows: &rows, instanceRows: instanceRows,
                trafficAt: { row, lag in
                    let lagBuckets = Int64((lag / bucketSeconds).rounded())
                    return trafficAt(buckets[row].index - lagBuckets, buckets[row].instance)
                },
                configuration: configuration, variation: trafficVariation)
            let dayOverDay =
                traffic.trafficVaries
                ? dayOverDayGrowth(times: times, floors: rawFloors, rows: rows, nowSeconds: nowSeconds) : nil
            let daySpanRequired = daySpanRequired(
                traffic: traffic, dayOverDay: dayOverDay, firstSeenSeconds: firstSeenSeconds, graceEnd: graceEnd,
                nowSeconds: nowSeconds)
            current = analyzeCurrentInstance(
                times: times, floors: floors, testFloors: testFloors, rows: rows, instanceStart: last.instanceStartSeconds,
                previousInstanceRows: previousInstanceRows(buckets, times: times, current: currentInstance),
                heapScale: heapScale, nowSeconds: nowSeconds, dayOverDay: dayOverDay, daySpanRequired: daySpanRequired)
            // No window could be tested yet: the estimate above stands.
            if current.isInsufficientData { current = notYetTestable }
        }
        if current.status == .suspectedLeak,
            instanceSaturates(buckets, times: times, floors: rawFloors, instance: currentInstance, start: last.instanceStartSeconds)
        {
            current.holdBack(.saturating)
        }
        if current.status < .suspectedLeak {
            let pooled = analyzeAcrossRestarts(
                buckets, times: times, floors: rawFloors, testFloors: rawTestFloors, heapScale: heapScale)
            let judgedOnlyAcrossRestarts = current.isInsufficientData && !pooled.isInsufficientData
            if judgedOnlyAcrossRestarts || pooled.status > current.status
                || (pooled.status == current.status && pooled.confidence > current.confidence)
            {
                return pooled
            }
        }
        return current
    }

    /// The window length a trend must span to be judged without the daily-cycle bound, or nil when
    /// no daily cycle has to be ruled out. While traffic varies and the day-over-day comparison is
    /// not possible yet, only a whole day tells a trend from a daily cycle. A process first seen
    /// while already running, for less than `minimumTrafficObservationSeconds`, is treated the same
    /// even with steady traffic: near its peak or trough traffic is flat for hours while memory
    /// that lags it is still rising.
    private func daySpanRequired(
        traffic: TrafficAdjustment, dayOverDay: Double?, firstSeenSeconds: Double, graceEnd: Double, nowSeconds: Double
    ) -> Double? {
        if traffic.trafficVaries {
            guard dayOverDay == nil else { return nil }
            return traffic.adjusted
                ? configuration.minimumWindowWhenTrafficExplainsSeconds : configuration.minimumWindowWithVaryingTrafficSeconds
        }
        let firstSeenRunning = firstSeenSeconds > graceEnd
        let observedBriefly = nowSeconds - firstSeenSeconds < configuration.minimumTrafficObservationSeconds
        return firstSeenRunning && observedBriefly ? configuration.minimumWindowWithVaryingTrafficSeconds : nil
    }

    /// Largest rise a daily cycle of `dailyCycleAmplitudeFraction` of the heap can make within a
    /// window of `lengthSeconds`: 2·A·sin(π·W / day), the whole swing 2·A from half a day on.
    func dailyCycleRise(lengthSeconds: Double, heapScale: Double) -> Double {
        let day = configuration.dayOverDayLagSeconds
        let phase = Double.pi * min(lengthSeconds, day / 2) / day
        return 2 * configuration.dailyCycleAmplitudeFraction * heapScale * Math.sin(phase)
    }

    // MARK: Current instance

    private func analyzeCurrentInstance(
        times: [Double], floors: [Double], testFloors: [Double], rows: [Int], instanceStart: Double, previousInstanceRows: [[Int]],
        heapScale: Double, nowSeconds: Double, dayOverDay: Double?, daySpanRequired: Double?
    ) -> TrendVerdict {
        let minimumWindowSeconds = configuration.trendWindowsSeconds.min() ?? 0
        guard let firstRow = rows.first else { return .ok(.insufficientData) }
        let available = nowSeconds - (times[firstRow] - configuration.bucketSeconds / 2)
        var lengths = configuration.trendWindowsSeconds.filter { $0 < available }
        // The whole instance, less a margin after the grace period while the instance is young
        // enough for its start to be in the window (a warm-up tail sits there).
        let instanceLength =
            available < configuration.windowSeconds ? available - configuration.instanceWindowMarginSeconds : configuration.windowSeconds
        if instanceLength >= minimumWindowSeconds, !lengths.contains(instanceLength) { lengths.append(instanceLength) }
        // The window since the onset of the current growth (CUSUM), once it is long enough; in a young
        // instance not before the margin after the grace period.
        var onsetLength: Double? = nil
        if configuration.minimumOnsetWindowSeconds > 0 {
            let earliest = available < configuration.windowSeconds ? times[firstRow] + configuration.instanceWindowMarginSeconds : -Double.infinity
            if let onset = growthOnset(
                times: times, values: configuration.onsetOnBucketFloors ? testFloors : floors,
                rows: rows.filter { times[$0] >= earliest }, heapScale: heapScale, nowSeconds: nowSeconds)
            {
                let length = nowSeconds - onset.startSeconds
                if length >= configuration.minimumOnsetWindowSeconds, !lengths.contains(length) {
                    lengths.append(length)
                    onsetLength = length
                }
            }
        }
        var best = TrendVerdict.ok(.insufficientData)
        var earliestLeakStart: Double? = nil
        for length in lengths {
            let windowStart = nowSeconds - length
            let windowRows = rows.filter { times[$0] >= windowStart }
            guard windowRows.count >= 8 else { continue }
            let covered = Double(windowRows.count) * configuration.bucketSeconds
            guard covered >= configuration.minimumWindowCoverage * length else { continue }
            var outcome = testWindow(
                times: windowRows.map { times[$0] }, floors: windowRows.map { floors[$0] },
                testFloors: windowRows.map { testFloors[$0] }, heapScale: heapScale, windowSeconds: length, dayOverDay: dayOverDay,
                // The onset was chosen where the floor was lowest: its window's trend score is
                // inflated by that choice, so it must clear a higher bar.
                leakZ: configuration.leakZ + (length == onsetLength ? configuration.onsetExtraZ : 0),
                materialRateFractionPerHour: windowStart < instanceStart + configuration.warmUpSeconds
                    ? configuration.warmUpMaterialRateFractionPerHour : configuration.materialRateFractionPerHour,
                dailyCycleRise: daySpanRequired.flatMap { length < $0 ? dailyCycleRise(lengthSeconds: length, heapScale: heapScale) : nil },
                priorFall: {
                    priorFall(
                        times: times, floors: floors, rows: rows.filter { times[$0] < windowStart },
                        previousInstances: previousInstanceRows, spanSeconds: length)
                })
            if outcome.status == .suspectedLeak {
                let start = refinedStart(outcome, times: times, floors: floors, rows: rows, windowStart: windowStart)
                earliestLeakStart = min(earliestLeakStart ?? start, start)
                outcome.sinceSeconds = start
            }
            if outcome.status > best.status || best.reason == .insufficientData
                || (outcome.status == best.status && outcome.confidence > best.confidence)
            {
                best = outcome
            }
        }
        if best.status == .suspectedLeak { best.sinceSeconds = earliestLeakStart }
        return best
    }

    /// The battery of tests on one window of the floor.
    func testWindow(
        times allTimes: [Double], floors allFloors: [Double], testFloors allTestFloors: [Double], heapScale: Double,
        windowSeconds: Double, dayOverDay: Double?, leakZ: Double? = nil, materialRateFractionPerHour: Double? = nil,
        dailyCycleRise: Double? = nil, priorFall: () -> Double? = { nil }
    ) -> TrendVerdict {
        let (testTimes, testFloors) = subsample(allTimes, allTestFloors, maximum: configuration.maximumPointsPerTest)
        // The smoothed floor of the newest buckets may not be settled yet (`settledFloorEnd`).
        let settledEnd = settledFloorEnd(allTimes.last ?? 0)
        let settled = allTimes.indices.filter { allTimes[$0] <= settledEnd }
        let (times, floors) = subsample(settled.map { allTimes[$0] }, settled.map { allFloors[$0] }, maximum: configuration.maximumPointsPerTest)
        guard testTimes.count >= 8, times.count >= 6, let first = times.first, let last = times.last, last > first else {
            return .ok(.insufficientData)
        }
        let mannKendall = MannKendall.test(
            x: testTimes, y: testFloors,
            minimumCorrection: configuration.trendTestOnBucketFloors ? 1 : smoothingCorrection(allTimes.count, times.count),
            skipCorrectionBelow: configuration.growingZ)
        let evidence = 1 - mannKendall.pValueIncreasing
        guard mannKendall.z >= configuration.growingZ, let slope = TheilSen.slope(x: times, y: floors), slope > 0
        else { return .ok(.noTrend) }
        let ratePerHour = slope * 3600
        let span = last - first
        var verdict = TrendVerdict(
            status: .growing, reason: .weakTrend, rateBytesPerHour: ratePerHour, sinceSeconds: first,
            confidence: evidence * 0.5, windowSeconds: windowSeconds, trendScore: mannKendall.z)
        guard ratePerHour >= (materialRateFractionPerHour ?? configuration.materialRateFractionPerHour) * heapScale,
            slope * span >= configuration.materialGrowthFraction * heapScale
        else {
            verdict.status = .ok
            verdict.reason = .notMaterial
            verdict.sinceSeconds = nil
            verdict.confidence = evidence * 0.25
            return verdict
        }
        // A daily cycle's rising phase, as far as this window can tell.
        if let dailyCycleRise, slope * span <= dailyCycleRise {
            verdict.holdBack(.possibleDailyCycle)
            return verdict
        }
        // Signal to noise: the growth must stand well clear of the scatter around the trend line
        // (what is left of wander and sampling noise that the floor did not remove).
        if let intercept = TheilSen.intercept(x: times, y: floors, slope: slope) {
            let residuals = zip(times, floors).map { abs($0.1 - intercept - slope * $0.0) }
            let scatter = Quantile.robustScatter(residuals)
            if slope * span < configuration.minimumSignalToNoise * scatter {
                verdict.holdBack(.withinNoise)
                return verdict
            }
        }
        // Thirds: a one-off step leaves at least one third flat; saturation flattens the last one.
        let thirdSpan = span / 3
        var thirdSlopes: [Double] = []
        for third in 0..<3 {
            let low = first + Double(third) * thirdSpan
            let high = third == 2 ? last + 1 : low + thirdSpan
            let indices = times.indices.filter { times[$0] >= low && times[$0] < high }
            guard indices.count >= 3, let thirdSlope = TheilSen.slope(x: indices.map { times[$0] }, y: indices.map { floors[$0] })
            else { return verdict }
            thirdSlopes.append(thirdSlope)
        }
        let smallestRatio = thirdSlopes.min()! / slope
        if smallestRatio < configuration.minimumThirdSlopeRatio {
            verdict.holdBack(.stepLike)
            return verdict
        }
        if thirdSlopes[2] < configuration.saturationRatio * thirdSlopes[1] {
            verdict.holdBack(.saturating)
            return verdict
        }
        // Read only by a window that passed every guard before it: the history scan is the costliest.
        if let priorFall = priorFall(), slope * span < configuration.priorSwingRatio * priorFall {
            verdict.holdBack(.withinPastSwings)
            return verdict
        }
        if let dayOverDay {
            let expected = slope * min(configuration.dayOverDayLagSeconds, windowSeconds)
            if dayOverDay < configuration.dayOverDayRatio * expected {
                verdict.holdBack(.noDayOverDayGrowth)
                return verdict
            }
        }
        // Every guard passed: a steady rise, only not yet conclusive below `leakZ`.
        if mannKendall.z < leakZ ?? configuration.leakZ { return verdict }
        verdict.status = .suspectedLeak
        verdict.reason = .sustainedGrowth
        verdict.confidence = evidence * (0.5 + 0.5 * min(1, smallestRatio))
        return verdict
    }

    /// Saturation over the whole instance, grace period included, when its start is in view: growth
    /// in the last third of the instance's life below `saturationRatio` × the middle third's is a
    /// warm-up or a cache still filling towards its cap, even if the latest window looks straight.
    private func instanceSaturates(_ buckets: [FloorBucket], times: [Double], floors: [Double], instance: Int, start: Double) -> Bool {
        let settledEnd = settledFloorEnd(times.last ?? 0)
        let rows = buckets.indices.filter { buckets[$0].instance == instance && times[$0] <= settledEnd }
        guard let firstRow = rows.first, let lastRow = rows.last,
            times[firstRow] - start <= 2 * configuration.bucketSeconds
        else { return false }
        let end = times[lastRow]
        let third = (end - start) / 3
        var slopes: [Double] = []
        for part in 1...2 {
            let low = start + Double(part) * third
            let high = part == 2 ? end + 1 : low + third
            let partRows = rows.filter { times[$0] >= low && times[$0] < high }
            let (t, y) = subsample(partRows.map { times[$0] }, partRows.map { floors[$0] }, maximum: configuration.maximumPointsPerTest)
            guard t.count >= 3, let slope = TheilSen.slope(x: t, y: y) else { return false }
            slopes.append(slope)
        }
        return slopes[0] > 0 && slopes[1] < configuration.saturationRatio * slopes[0]
    }

    /// Largest fall within `spanSeconds` in the history before the window, and in earlier instances
    /// of the process (a young instance has no history of its own; the wander of the process is
    /// the same). Falls across a restart do not count.
    private func priorFall(
        times: [Double], floors: [Double], rows: [Int], previousInstances: [[Int]], spanSeconds: Double
    ) -> Double? {
        var result = largestFall(times: times, floors: floors, rows: rows, spanSeconds: spanSeconds)
        for instanceRows in previousInstances {
            if let fall = largestFall(times: times, floors: floors, rows: instanceRows, spanSeconds: spanSeconds, requireFullSpan: false) {
                result = max(result ?? 0, fall)
            }
        }
        return result
    }

    /// Post-grace rows of each earlier instance with at least `minimumInstanceTrendSeconds` of data.
    private func previousInstanceRows(_ buckets: [FloorBucket], times: [Double], current: Int) -> [[Int]] {
        var byInstance: [Int: [Int]] = [:]
        for index in buckets.indices where buckets[index].instance != current {
            if times[index] - configuration.bucketSeconds / 2 >= buckets[index].instanceStartSeconds + configuration.gracePeriodSeconds {
                byInstance[buckets[index].instance, default: []].append(index)
            }
        }
        return byInstance.keys.sorted().compactMap { key in
            let rows = byInstance[key]!
            return times[rows.last!] - times[rows.first!] >= configuration.minimumInstanceTrendSeconds ? rows : nil
        }
    }

    /// Largest fall of the floor within any span up to `spanSeconds` among `rows` (the history
    /// before a window): how far this series wanders down, and so up, on its own. Nil without at
    /// least one span's worth of history.
    private func largestFall(
        times: [Double], floors: [Double], rows: [Int], spanSeconds: Double, requireFullSpan: Bool = true
    ) -> Double? {
        guard let first = rows.first, let last = rows.last, !requireFullSpan || times[last] - times[first] >= spanSeconds
        else { return nil }
        var largest = 0.0
        var start = 0
        // Indices into rows of a decreasing-maximum deque: window[head...].
        var window: [Int] = []
        window.reserveCapacity(rows.count)
        var head = 0
        for position in rows.indices {
            let row = rows[position]
            while start < position && times[rows[start]] < times[row] - spanSeconds { start += 1 }
            while head < window.count, window[head] < start { head += 1 }
            if head < window.count { largest = max(largest, floors[rows[window[head]]] - floors[row]) }
            while window.count > head, let tail = window.last, floors[rows[tail]] <= floors[row] { window.removeLast() }
            window.append(position)
        }
        return largest
    }

    /// Growth of the floor over a day: median of the last span minus median of the same span a day
    /// earlier. Nil when the instance has not been observed that long ago.
    private func dayOverDayGrowth(times: [Double], floors: [Double], rows: [Int], nowSeconds: Double) -> Double? {
        let span = configuration.dayOverDaySpanSeconds
        let day = configuration.dayOverDayLagSeconds
        let recent = rows.filter { times[$0] >= nowSeconds - span }.map { floors[$0] }
        let earlier = rows.filter { times[$0] >= nowSeconds - day - span && times[$0] < nowSeconds - day }.map { floors[$0] }
        let needed = Int(0.5 * span / configuration.bucketSeconds)
        guard recent.count >= needed, earlier.count >= needed,
            let recentMedian = Quantile.median(recent), let earlierMedian = Quantile.median(earlier)
        else { return nil }
        return recentMedian - earlierMedian
    }

    /// Where the window's Theil–Sen line meets the level held just before the window (the growth
    /// began there); the window start when nothing came before.
    private func refinedStart(_ verdict: TrendVerdict, times: [Double], floors: [Double], rows: [Int], windowStart: Double) -> Double {
        let windowRows = rows.filter { times[$0] >= windowStart }
        let before = rows.filter { times[$0] < windowStart && times[$0] >= windowStart - configuration.priorLevelSeconds }.map { floors[$0] }
        let slope = verdict.rateBytesPerHour / 3600
        guard let firstRow = rows.first, let priorLevel = Quantile.median(before), slope > 0,
            let intercept = TheilSen.intercept(x: windowRows.map { times[$0] }, y: windowRows.map { floors[$0] }, slope: slope)
        else { return windowStart }
        let crossing = (priorLevel - intercept) / slope
        return min(max(crossing, times[firstRow] - configuration.bucketSeconds / 2), windowStart)
    }

    // MARK: Restarts

    /// Leaks that reset at every restart: the trend must hold in the current instance and in the
    /// previous ones (after each one's grace period). Seasonal-Kendall pooling: S and Var(S) add up
    /// over instances, the rate is the median of the within-instance pairwise slopes.
    private func analyzeAcrossRestarts(
        _ buckets: [FloorBucket], times: [Double], floors: [Double], testFloors: [Double], heapScale: Double
    ) -> TrendVerdict {
        guard let currentInstance = buckets.last?.instance else { return .ok(.insufficientData) }
        // The newest smoothed floors may not be settled; earlier instances are.
        let settledEnd = settledFloorEnd(times.last ?? 0)
        var instances: [(times: [Double], floors: [Double], testFloors: [Double], start: Double, rawCount: Int)] = []
        var instance = currentInstance
        while instance >= 0 && instances.count < 4 {
            let rows = buckets.indices.filter {
                buckets[$0].instance == instance && times[$0] <= settledEnd
                    && times[$0] - configuration.bucketSeconds / 2 >= buckets[$0].instanceStartSeconds + configuration.gracePeriodSeconds
            }
            if let firstRow = rows.first, let lastRow = rows.last,
                times[lastRow] - times[firstRow] >= configuration.minimumInstanceTrendSeconds, rows.count >= 6
            {
                let perInstance = configuration.maximumPointsPerTest / 2
                let (t, y) = subsample(rows.map { times[$0] }, rows.map { floors[$0] }, maximum: perInstance)
                let (_, testY) = subsample(rows.map { times[$0] }, rows.map { testFloors[$0] }, maximum: perInstance)
                instances.append((t, y, testY, times[firstRow] - configuration.bucketSeconds / 2, rows.count))
            } else if instance == currentInstance {
                return .ok(.insufficientData)
            }
            instance -= 1
        }
        guard instances.count >= 2 else { return .ok(.insufficientData) }
        var s = 0.0
        var variance = 0.0
        var pairSlopes: [Double] = []
        var instanceSlopes: [Double] = []
        var longestSpan = 0.0
        var saturating = false
        for series in instances {
            let test = MannKendall.test(
                x: series.times, y: series.testFloors,
                minimumCorrection: configuration.trendTestOnBucketFloors ? 1 : smoothingCorrection(series.rawCount, series.times.count))
            s += test.s
            variance += test.varianceIndependent * test.varianceCorrection
            for i in 0..<(series.times.count - 1) {
                for j in (i + 1)..<series.times.count {
                    pairSlopes.append((series.floors[j] - series.floors[i]) / (series.times[j] - series.times[i]))
                }
            }
            instanceSlopes.append(TheilSen.slope(x: series.times, y: series.floors) ?? 0)
            longestSpan = max(longestSpan, series.times.last! - series.times.first!)
            let half = series.times.count / 2
            if half >= 3,
                let firstHalf = TheilSen.slope(x: Array(series.times[..<half]), y: Array(series.floors[..<half])),
                let secondHalf = TheilSen.slope(x: Array(series.times[half...]), y: Array(series.floors[half...])),
                firstHalf > 0, secondHalf < configuration.saturationRatio * firstHalf
            {
                saturating = true
            }
        }
        guard variance > 0, s > 0, let slope = Quantile.medianInPlace(&pairSlopes), slope > 0 else { return .ok(.noTrend) }
        let z = (s - 1) / variance.squareRoot()
        let evidence = 1 - Math.normalUpperTail(z)
        guard z >= configuration.growingZ else { return .ok(.noTrend) }
        let ratePerHour = slope * 3600
        guard ratePerHour >= configuration.materialRateFractionPerHour * heapScale,
            slope * longestSpan >= configuration.materialGrowthFraction * heapScale
        else { return .ok(.notMaterial) }
        let since = instances.last!.start
        var verdict = TrendVerdict(
            status: .growing, reason: .weakTrend, rateBytesPerHour: ratePerHour, sinceSeconds: since,
            confidence: evidence * 0.5, windowSeconds: instances.first!.times.last! - since)
        let smallestRatio = instanceSlopes.min()! / slope
        if smallestRatio < configuration.minimumThirdSlopeRatio {
            verdict.holdBack(.stepLike)
            return verdict
        }
        if saturating {
            verdict.holdBack(.saturating)
            return verdict
        }
        // Signal to noise: the growth within an instance must stand clear of the scatter of the bucket
        // floors around each instance's line at the pooled rate. The bucket floors, not the smoothed
        // ones: a site's sampled bytes carry sampling noise that the opening smooths into slow
        // wander, and over two to four short instances that wander passes the pooled trend score.
        if configuration.minimumSignalToNoiseAcrossRestarts > 0 {
            var residuals: [Double] = []
            for series in instances {
                let values = series.testFloors
                guard let intercept = TheilSen.intercept(x: series.times, y: values, slope: slope) else { continue }
                for (t, y) in zip(series.times, values) { residuals.append(abs(y - intercept - slope * t)) }
            }
            let scatter = Quantile.robustScatter(residuals)
            if slope * longestSpan < configuration.minimumSignalToNoiseAcrossRestarts * scatter {
                verdict.holdBack(.withinNoise)
                return verdict
            }
        }
        guard z >= configuration.leakZ else { return verdict }
        verdict.status = .suspectedLeak
        verdict.reason = .growthAcrossRestarts
        verdict.confidence = evidence * (0.5 + 0.5 * min(1, smallestRatio))
        return verdict
    }

    // MARK: Helpers

    /// The running minimum makes each value share its inputs with the next k − 1 (k buckets per
    /// running-minimum span, divided by the subsampling stride): Var(S) is inflated at least k-fold.
    func smoothingCorrection(_ rawCount: Int, _ testedCount: Int) -> Double {
        let stride = Double(max(1, (rawCount + max(testedCount, 1) - 1) / max(testedCount, 1)))
        return max(1, configuration.runningMinimumSeconds / configuration.bucketSeconds / stride)
    }

    /// Every k-th point counting back from the newest, so at most `maximum` remain.
    func subsample(_ times: [Double], _ values: [Double], maximum: Int) -> ([Double], [Double]) {
        guard times.count > maximum, maximum > 0 else { return (times, values) }
        let stride = (times.count + maximum - 1) / maximum
        var t: [Double] = []
        var v: [Double] = []
        var index = times.count - 1
        while index >= 0 {
            t.append(times[index])
            v.append(values[index])
            index -= stride
        }
        return (t.reversed(), v.reversed())
    }
}
