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
        let smoothed = smoothedFloors(buckets, times: times)
        // The trend test runs on the bucket floors themselves (independent enough for Hamed–Rao to
        // handle); the rate, thirds and scatter on their smoothed floor (sawtooth removed).
        let all = FloorWindow(
            buckets, times: times, floors: smoothed,
            testFloors: configuration.trendTestOnBucketFloors ? buckets.map(\.floorBytes) : smoothed)

        // The current instance, and what of it lies after its grace period.
        let currentInstance = last.instance
        let graceEnd = last.instanceStartSeconds + configuration.gracePeriodSeconds
        let instance = all.instance(currentInstance)
        let afterGrace = instance.filter { instance.times[$0] - bucketSeconds / 2 >= graceEnd }
        let firstSeenSeconds = instance.times[0] - bucketSeconds / 2
        // The first trend test needs the shortest window's worth of buckets after the grace period.
        let firstTestableStart = afterGrace.times.first.map { $0 - bucketSeconds / 2 } ?? max(graceEnd, firstSeenSeconds)
        let shortestWindow = configuration.trendWindowsSeconds.min() ?? 0
        let notYetTestable = TrendVerdict.insufficientData(
            moreNeededSeconds: firstTestableStart + shortestWindow + bucketSeconds - nowSeconds)
        var current = notYetTestable
        if afterGrace.count >= 8 {
            let (traffic, adjusted, unadjusted) = TrafficAdjustment.apply(
                to: afterGrace, instance: instance, bucketSeconds: bucketSeconds, trafficAt: trafficAt,
                configuration: configuration, variation: trafficVariation)
            let dayOverDay = traffic.trafficVaries ? dayOverDayGrowth(unadjusted, nowSeconds: nowSeconds) : nil
            let daySpanRequired = daySpanRequired(
                traffic: traffic, dayOverDay: dayOverDay, firstSeenSeconds: firstSeenSeconds, graceEnd: graceEnd,
                nowSeconds: nowSeconds)
            current = analyzeCurrentInstance(
                adjusted, observedSince: max(last.instanceStartSeconds, firstSeenSeconds),
                previousInstances: previousInstances(all, current: currentInstance),
                heapScale: heapScale, nowSeconds: nowSeconds, dayOverDay: dayOverDay, daySpanRequired: daySpanRequired)
            // No window could be tested yet: the estimate above stands.
            if current.isInsufficientData { current = notYetTestable }
        }
        if current.status == .suspectedLeak, instanceSaturates(instance, start: last.instanceStartSeconds) {
            current.holdBack(.saturating)
        }
        if current.status < .suspectedLeak {
            let pooled = analyzeAcrossRestarts(all, heapScale: heapScale)
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

    /// `rows`: the current instance after its grace period, adjusted for traffic. `observedSince`:
    /// the instance's start, or its first bucket for an instance first seen while running.
    private func analyzeCurrentInstance(
        _ rows: FloorWindow, observedSince: Double, previousInstances: [FloorWindow],
        heapScale: Double, nowSeconds: Double, dayOverDay: Double?, daySpanRequired: Double?
    ) -> TrendVerdict {
        let minimumWindowSeconds = configuration.trendWindowsSeconds.min() ?? 0
        guard let firstTime = rows.times.first else { return .ok(.insufficientData) }
        let available = nowSeconds - (firstTime - configuration.bucketSeconds / 2)
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
            let young = available < configuration.windowSeconds
            let scanned = young ? rows.since(firstTime + configuration.instanceWindowMarginSeconds) : rows
            if let onset = growthOnset(
                times: scanned.times, values: configuration.onsetOnBucketFloors ? scanned.testFloors : scanned.floors,
                heapScale: heapScale, nowSeconds: nowSeconds)
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
            let window = rows.since(windowStart)
            guard window.count >= 8 else { continue }
            let covered = Double(window.count) * configuration.bucketSeconds
            guard covered >= configuration.minimumWindowCoverage * length else { continue }
            var outcome = testWindow(
                window, heapScale: heapScale, windowSeconds: length, dayOverDay: dayOverDay,
                // The onset was chosen where the floor was lowest: its window's trend score is
                // inflated by that choice, so it must clear a higher bar.
                leakZ: configuration.leakZ + (length == onsetLength ? configuration.onsetExtraZ : 0),
                materialRateFractionPerHour: windowStart < observedSince + configuration.warmUpSeconds
                    ? configuration.warmUpMaterialRateFractionPerHour : configuration.materialRateFractionPerHour,
                dailyCycleRise: daySpanRequired.flatMap { length < $0 ? dailyCycleRise(lengthSeconds: length, heapScale: heapScale) : nil },
                priorFall: { priorFall(rows.before(windowStart), previousInstances: previousInstances, spanSeconds: length) })
            if outcome.status == .suspectedLeak {
                let start = refinedStart(outcome, rows, windowStart: windowStart)
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
        _ window: FloorWindow, heapScale: Double, windowSeconds: Double, dayOverDay: Double?, leakZ: Double? = nil,
        materialRateFractionPerHour: Double? = nil, dailyCycleRise: Double? = nil, priorFall: @escaping () -> Double? = { nil }
    ) -> TrendVerdict {
        let tested = window.subsampled(maximum: configuration.maximumPointsPerTest)
        let testTimes = tested.times
        let testFloors = tested.testFloors
        // The smoothed floor of the newest buckets may not be settled yet (`settledFloorEnd`).
        let settledEnd = settledFloorEnd(window.times.last ?? 0)
        let settled = window.filter { window.times[$0] <= settledEnd }.subsampled(maximum: configuration.maximumPointsPerTest)
        let times = settled.times
        let floors = settled.floors
        guard testTimes.count >= 8, times.count >= 6, let first = times.first, let last = times.last, last > first else {
            return .ok(.insufficientData)
        }
        let mannKendall = MannKendall.test(
            x: testTimes, y: testFloors,
            minimumCorrection: configuration.trendTestOnBucketFloors ? 1 : smoothingCorrection(window.count, times.count),
            skipCorrectionBelow: configuration.growingZ)
        let evidence = 1 - mannKendall.pValueIncreasing
        guard mannKendall.z >= configuration.growingZ, let slope = TheilSen.slope(x: times, y: floors), slope > 0
        else { return .ok(.noTrend) }
        var measured = TrendMeasurement(
            z: mannKendall.z, evidence: evidence, slope: slope, span: last - first, sinceSeconds: first,
            windowSeconds: windowSeconds,
            materialRateFractionPerHour: materialRateFractionPerHour ?? configuration.materialRateFractionPerHour,
            leakZ: leakZ ?? configuration.leakZ, leakReason: .sustainedGrowth, dailyCycleRise: dailyCycleRise,
            // Thirds: a one-off step leaves at least one third flat; saturation flattens the last one.
            shape: {
                let thirdSpan = (last - first) / 3
                var thirdSlopes: [Double] = []
                for third in 0..<3 {
                    let low = first + Double(third) * thirdSpan
                    let part = settled.between(low, third == 2 ? last + 1 : low + thirdSpan)
                    guard part.count >= 3, let thirdSlope = TheilSen.slope(x: part.times, y: part.floors) else { return nil }
                    thirdSlopes.append(thirdSlope)
                }
                return (thirdSlopes.min()! / slope, thirdSlopes[2] < configuration.saturationRatio * thirdSlopes[1])
            },
            priorFall: priorFall)
        // Signal to noise: the growth must stand well clear of the scatter around the trend line
        // (what is left of wander and sampling noise that the floor did not remove).
        if let intercept = TheilSen.intercept(x: times, y: floors, slope: slope) {
            let residuals = zip(times, floors).map { abs($0.1 - intercept - slope * $0.0) }
            measured.noise = (Quantile.robustScatter(residuals), configuration.minimumSignalToNoise)
        }
        if let dayOverDay {
            measured.dayOverDay = (dayOverDay, slope * min(configuration.dayOverDayLagSeconds, windowSeconds))
        }
        return verdict(measured, heapScale: heapScale)
    }

    /// Saturation over the whole instance, grace period included, when its start is in view: growth
    /// in the last third of the instance's life below `saturationRatio` × the middle third's is a
    /// warm-up or a cache still filling towards its cap, even if the latest window looks straight.
    private func instanceSaturates(_ instance: FloorWindow, start: Double) -> Bool {
        let settledEnd = settledFloorEnd(instance.times.last ?? 0)
        let rows = instance.filter { instance.times[$0] <= settledEnd }
        guard let firstTime = rows.times.first, let end = rows.times.last, firstTime - start <= 2 * configuration.bucketSeconds
        else { return false }
        let third = (end - start) / 3
        var slopes: [Double] = []
        for part in 1...2 {
            let low = start + Double(part) * third
            let high = part == 2 ? end + 1 : low + third
            let sample = rows.between(low, high).subsampled(maximum: configuration.maximumPointsPerTest)
            guard sample.count >= 3, let slope = TheilSen.slope(x: sample.times, y: sample.floors) else { return false }
            slopes.append(slope)
        }
        return slopes[0] > 0 && slopes[1] < configuration.saturationRatio * slopes[0]
    }

    /// Largest fall within `spanSeconds` in the history before the window, and in earlier instances
    /// of the process (a young instance has no history of its own; the wander of the process is
    /// the same). Falls across a restart do not count.
    private func priorFall(_ history: FloorWindow, previousInstances: [FloorWindow], spanSeconds: Double) -> Double? {
        var result = largestFall(history, spanSeconds: spanSeconds)
        for instance in previousInstances {
            if let fall = largestFall(instance, spanSeconds: spanSeconds, requireFullSpan: false) {
                result = max(result ?? 0, fall)
            }
        }
        return result
    }

    /// Post-grace rows of each earlier instance with at least `minimumInstanceTrendSeconds` of data.
    private func previousInstances(_ all: FloorWindow, current: Int) -> [FloorWindow] {
        let afterGrace = all.filter {
            all.instances[$0] != current
                && all.times[$0] - configuration.bucketSeconds / 2 >= all.instanceStarts[$0] + configuration.gracePeriodSeconds
        }
        return Set(afterGrace.instances).sorted().compactMap { instance in
            let rows = afterGrace.instance(instance)
            return rows.span >= configuration.minimumInstanceTrendSeconds ? rows : nil
        }
    }

    /// Largest fall of the floor within any span up to `spanSeconds` in `rows` (the history
    /// before a window): how far this series wanders down, and so up, on its own. Nil without at
    /// least one span's worth of history.
    private func largestFall(_ rows: FloorWindow, spanSeconds: Double, requireFullSpan: Bool = true) -> Double? {
        guard !rows.isEmpty, !requireFullSpan || rows.span >= spanSeconds else { return nil }
        let times = rows.times
        let floors = rows.floors
        var largest = 0.0
        var start = 0
        // Positions of a decreasing-maximum deque: window[head...].
        var window: [Int] = []
        window.reserveCapacity(rows.count)
        var head = 0
        for position in times.indices {
            while start < position && times[start] < times[position] - spanSeconds { start += 1 }
            while head < window.count, window[head] < start { head += 1 }
            if head < window.count { largest = max(largest, floors[window[head]] - floors[position]) }
            while window.count > head, let tail = window.last, floors[tail] <= floors[position] { window.removeLast() }
            window.append(position)
        }
        return largest
    }

    /// Growth of the floor over a day: median of the last span minus median of the same span a day
    /// earlier. Nil when the instance has not been observed that long ago.
    private func dayOverDayGrowth(_ rows: FloorWindow, nowSeconds: Double) -> Double? {
        let span = configuration.dayOverDaySpanSeconds
        let day = configuration.dayOverDayLagSeconds
        let recent = rows.since(nowSeconds - span).floors
        let earlier = rows.between(nowSeconds - day - span, nowSeconds - day).floors
        let needed = Int(0.5 * span / configuration.bucketSeconds)
        guard recent.count >= needed, earlier.count >= needed,
            let recentMedian = Quantile.median(recent), let earlierMedian = Quantile.median(earlier)
        else { return nil }
        return recentMedian - earlierMedian
    }

    /// Where the window's Theil–Sen line meets the level held just before the window (the growth
    /// began there); the window start when nothing came before.
    private func refinedStart(_ verdict: TrendVerdict, _ rows: FloorWindow, windowStart: Double) -> Double {
        let window = rows.since(windowStart)
        let before = rows.between(windowStart - configuration.priorLevelSeconds, windowStart).floors
        let slope = verdict.rateBytesPerHour / 3600
        guard let firstTime = rows.times.first, let priorLevel = Quantile.median(before), slope > 0,
            let intercept = TheilSen.intercept(x: window.times, y: window.floors, slope: slope)
        else { return windowStart }
        let crossing = (priorLevel - intercept) / slope
        return min(max(crossing, firstTime - configuration.bucketSeconds / 2), windowStart)
    }

    // MARK: Restarts

    /// Leaks that reset at every restart: the trend must hold in the current instance and in the
    /// previous ones (after each one's grace period). Seasonal-Kendall pooling: S and Var(S) add up
    /// over instances, the rate is the median of the within-instance pairwise slopes.
    private func analyzeAcrossRestarts(_ all: FloorWindow, heapScale: Double) -> TrendVerdict {
        guard let currentInstance = all.instances.last else { return .ok(.insufficientData) }
        // The newest smoothed floors may not be settled; earlier instances are.
        let settledEnd = settledFloorEnd(all.times.last ?? 0)
        let judged = all.filter {
            all.times[$0] <= settledEnd
                && all.times[$0] - configuration.bucketSeconds / 2 >= all.instanceStarts[$0] + configuration.gracePeriodSeconds
        }
        var instances: [(times: [Double], floors: [Double], testFloors: [Double], start: Double, rawCount: Int)] = []
        // The current instance and up to three before it, newest first.
        for instance in Set(all.instances).sorted(by: >) where instances.count < 4 {
            let rows = judged.instance(instance)
            if let firstTime = rows.times.first, rows.span >= configuration.minimumInstanceTrendSeconds, rows.count >= 6 {
                let sample = rows.subsampled(maximum: configuration.maximumPointsPerTest / 2)
                instances.append((sample.times, sample.floors, sample.testFloors, firstTime - configuration.bucketSeconds / 2, rows.count))
            } else if instance == currentInstance {
                return .ok(.insufficientData)
            }
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
        let since = instances.last!.start
        var measured = TrendMeasurement(
            z: z, evidence: evidence, slope: slope, span: longestSpan, sinceSeconds: since,
            windowSeconds: instances.first!.times.last! - since,
            materialRateFractionPerHour: configuration.materialRateFractionPerHour, leakZ: configuration.leakZ,
            leakReason: .growthAcrossRestarts, shape: { (instanceSlopes.min()! / slope, saturating) })
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
            measured.noise = (Quantile.robustScatter(residuals), configuration.minimumSignalToNoiseAcrossRestarts)
        }
        return verdict(measured, heapScale: heapScale)
    }

    // MARK: Helpers

    /// The running minimum makes each value share its inputs with the next k − 1 (k buckets per
    /// running-minimum span, divided by the subsampling stride): Var(S) is inflated at least k-fold.
    func smoothingCorrection(_ rawCount: Int, _ testedCount: Int) -> Double {
        let stride = Double(max(1, (rawCount + max(testedCount, 1) - 1) / max(testedCount, 1)))
        return max(1, configuration.runningMinimumSeconds / configuration.bucketSeconds / stride)
    }
}
