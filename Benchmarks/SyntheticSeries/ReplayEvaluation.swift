import LeakAnalysis

/// Replays a labelled series as the collector would see it: evaluating every `cadenceSeconds` of
/// series time on the last `windowSeconds` of data, and records when it was first flagged.
public struct ReplayOutcome: Sendable {
    public var kind: SeriesKind
    public var seed: UInt64
    public var isLeak: Bool
    /// Flagged suspectedLeak at some evaluation before the leak began (or ever, for a series
    /// that must stay ok): a false positive.
    public var falseAlarm: Bool
    /// Flagged at or after the leak began.
    public var detected: Bool
    /// First detection time minus leak start, seconds.
    public var detectionDelaySeconds: Double?
    /// First time at or after the leak began that the host was growing (or worse), minus leak start.
    public var growingDelaySeconds: Double?
    /// At the first detection, the sites with status suspectedLeak were exactly the leaking sites.
    public var namedExactly: Bool?
    /// The naive baseline's figures on the same replay.
    public var baselineFalseAlarm: Bool
    public var baselineDetected: Bool
    public var baselineDelaySeconds: Double?
    public var evaluations: Int
    public var rawPoints: Int
}

public struct ReplayEvaluator: Sendable {
    public var configuration: VerdictConfiguration
    /// Series time between evaluations; a multiple of the bucket length. Default 10 min.
    public var cadenceSeconds: Double

    public init(configuration: VerdictConfiguration = VerdictConfiguration(), cadenceSeconds: Double = 600) {
        self.configuration = configuration
        self.cadenceSeconds = cadenceSeconds
    }

    /// Evaluation times: every cadence boundary after the first point, through the end.
    public func evaluationTimes(_ series: LabelledSeries) -> [Double] {
        var times: [Double] = []
        var t = ((series.startSeconds / cadenceSeconds).rounded(.down) + 1) * cadenceSeconds
        while t <= series.endSeconds + cadenceSeconds {
            times.append(t)
            t += cadenceSeconds
        }
        return times
    }

    public func replay(_ series: LabelledSeries) -> ReplayOutcome {
        let analyzer = LeakAnalyzer(configuration: configuration)
        let hostSeries = HostSeries(points: series.points, sites: series.sites, configuration: configuration)
        let baseline = NaiveRegressionBaseline(points: series.points, configuration: configuration)
        let leakStart = series.leakStartSeconds ?? .infinity
        var outcome = ReplayOutcome(
            kind: series.kind, seed: series.seed, isLeak: series.kind.isLeak, falseAlarm: false, detected: false,
            detectionDelaySeconds: nil, growingDelaySeconds: nil, namedExactly: nil, baselineFalseAlarm: false, baselineDetected: false,
            baselineDelaySeconds: nil, evaluations: 0, rawPoints: series.points.count)
        for t in evaluationTimes(series) {
            if !outcome.detected {
                let verdict = analyzer.evaluate(hostSeries.prefix(endingBeforeSeconds: t, configuration: configuration))
                if verdict.status >= .growing, t >= leakStart, outcome.growingDelaySeconds == nil {
                    outcome.growingDelaySeconds = t - leakStart
                }
                outcome.evaluations += 1
                if verdict.status == .suspectedLeak {
                    if t < leakStart {
                        outcome.falseAlarm = true
                    } else {
                        outcome.detected = true
                        outcome.detectionDelaySeconds = t - leakStart
                        let named = Set(verdict.sites.filter { $0.status == .suspectedLeak }.map(\.siteID))
                        outcome.namedExactly = named == series.leakingSites
                    }
                }
            }
            if !outcome.baselineDetected && baseline.flags(endingBeforeSeconds: t) {
                if t < leakStart {
                    outcome.baselineFalseAlarm = true
                } else {
                    outcome.baselineDetected = true
                    outcome.baselineDelaySeconds = t - leakStart
                }
            }
            if outcome.detected && outcome.baselineDetected { break }
        }
        return outcome
    }
}

/// The bar to clear: ordinary least squares over the raw points of the window, flagged when the
/// slope is significant (t ≥ 3 with the textbook independent-errors standard error) and material by
/// the same thresholds the engine uses.
public struct NaiveRegressionBaseline: Sendable {
    private var times: [Double]
    private var prefix: [(n: Double, t: Double, y: Double, tt: Double, ty: Double, yy: Double)]
    private let configuration: VerdictConfiguration
    private let origin: Double

    public init(points: [HostPoint], configuration: VerdictConfiguration) {
        let sorted = points.sorted { $0.timestampSeconds < $1.timestampSeconds }
        self.configuration = configuration
        origin = sorted.first?.timestampSeconds ?? 0
        times = sorted.map(\.timestampSeconds)
        prefix = [(0, 0, 0, 0, 0, 0)]
        prefix.reserveCapacity(sorted.count + 1)
        var running = (n: 0.0, t: 0.0, y: 0.0, tt: 0.0, ty: 0.0, yy: 0.0)
        for point in sorted {
            let t = (point.timestampSeconds - origin) / 3600
            let y = Double(point.heapBytes)
            running = (running.n + 1, running.t + t, running.y + y, running.tt + t * t, running.ty + t * y, running.yy + y * y)
            prefix.append(running)
        }
    }

    public func flags(endingBeforeSeconds end: Double) -> Bool {
        let upper = firstIndex(atLeast: end)
        let lower = firstIndex(atLeast: end - configuration.windowSeconds)
        guard upper - lower >= 360 else { return false }  // an hour of points at least
        let a = prefix[lower], b = prefix[upper]
        let n = b.n - a.n
        let st = b.t - a.t, sy = b.y - a.y
        let stt = (b.tt - a.tt) - st * st / n
        let sty = (b.ty - a.ty) - st * sy / n
        let syy = (b.yy - a.yy) - sy * sy / n
        guard stt > 0 else { return false }
        let slopePerHour = sty / stt
        let residual = max(syy - slopePerHour * sty, 0) / (n - 2)
        let standardError = (residual / stt).squareRoot()
        let mean = sy / n
        let spanHours = (times[upper - 1] - times[lower]) / 3600
        return slopePerHour > 3 * standardError && slopePerHour >= configuration.materialRateFractionPerHour * mean
            && slopePerHour * spanHours >= configuration.materialGrowthFraction * mean
    }

    private func firstIndex(atLeast value: Double) -> Int { times.partitioningIndex { $0 >= value } }
}
