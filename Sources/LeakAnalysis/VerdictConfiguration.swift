/// Tuning of the leak verdicts. Every default is documented with the false alarm it guards against.
///
/// The collector should call the engine with the last `windowSeconds` (default 48 h) of points; older
/// points are ignored. 48 h is what the day-over-day comparison needs (a day plus the comparison
/// span) with room to spare; 24 h works but disables the day-over-day test.
public struct VerdictConfiguration: Sendable, Hashable {
    /// Longest span of history considered, ending at the newest point. Default 48 h.
    public var windowSeconds: Double = 48 * 3600
    /// Bucket length for the floor; buckets are aligned to multiples of this on the timestamp axis
    /// so every caller sees the same buckets. Default 10 min.
    public var bucketSeconds: Double = 600
    /// Low quantile of the points in a bucket taken as its floor (GC and batch peaks sit above it).
    /// Default 0.1.
    public var bucketFloorQuantile: Double = 0.1
    /// A bucket with fewer points is dropped (a reporting gap, not a measurement). Default 3.
    public var minimumPointsPerBucket: Int = 3
    /// Running minimum of the bucket floors over this span: removes sawtooth up to this period.
    /// Default 1 h.
    public var runningMinimumSeconds: Double = 3600
    /// How the bucket floors are smoothed for the rate, thirds and scatter (`FloorSmoothing`).
    /// Default `.opening`: a trailing minimum delays every ramp by `runningMinimumSeconds`.
    public var floorSmoothing: FloorSmoothing = .opening
    /// Time after a process start during which growth is warm-up and is not analysed. Default 1 h.
    public var gracePeriodSeconds: Double = 3600
    /// Lengths of the trailing windows tested for a trend (the shortest bounds the detection delay;
    /// the longer ones find slow leaks). The whole current instance is tested as well.
    public var trendWindowsSeconds: [Double] = [3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]
    /// The window since the onset of the current growth (a CUSUM on the floor, `GrowthOnset`) is
    /// tested once it is this long. 0 disables. Default 1.5 h.
    public var minimumOnsetWindowSeconds: Double = 1.5 * 3600
    /// The onset is looked for in this much recent history: older growth is judged by the fixed
    /// windows, and a window started at a minimum picked over a long history is more often wander
    /// (tuning seeds 1–64: 3 false alarms at 6 h, 5 at 12 h, for 0.2 h of median delay). Default 6 h.
    public var maximumOnsetWindowSeconds: Double = 6 * 3600
    /// The CUSUM's allowance, as a fraction of `materialRateFractionPerHour`: growth slower than
    /// this does not accumulate. Default 0.5.
    public var onsetAllowanceFraction: Double = 0.5
    /// The onset window's trend score must exceed `leakZ` by this much (its start was picked
    /// where the floor was lowest, which inflates the score). Default 1.
    public var onsetExtraZ: Double = 1
    /// Find the onset on the bucket floors (true) or on the smoothed floor (false).
    public var onsetOnBucketFloors: Bool = true
    /// A window is tested only if it holds at least this fraction of its length in data.
    public var minimumWindowCoverage: Double = 0.8
    /// At most this many points enter one test (the floor is subsampled evenly): keeps every test
    /// O(k²) with k bounded, so one evaluation is linear in the number of raw points.
    public var maximumPointsPerTest: Int = 48
    /// Run Mann–Kendall on the bucket floors (true) or on their running minimum (false, with Var(S)
    /// inflated at least by the running-minimum span in buckets, which costs power: a 3 h window
    /// cannot then reach `leakZ`). The rate, thirds and scatter always use the running minimum.
    public var trendTestOnBucketFloors: Bool = true
    /// Mann–Kendall score (Hamed–Rao corrected) from which a trend is "growing". Default 2.
    public var growingZ: Double = 2.0
    /// Mann–Kendall score from which a trend can be a suspected leak. Default 3.
    public var leakZ: Double = 3.0
    /// Growth must be at least this fraction of the heap per hour to matter. Default 0.15 %/h.
    public var materialRateFractionPerHour: Double = 0.0015
    /// …and the growth over the tested window at least this fraction of the heap. Default 0.75 %.
    public var materialGrowthFraction: Double = 0.0075
    /// Growth over the window must be at least this many times the robust scatter (1.4826·MAD) of the
    /// floor around its Theil–Sen line: noise the floor did not remove. Default 5.
    public var minimumSignalToNoise: Double = 5
    /// When traffic varies (a daily cycle) and the day-over-day comparison is not yet possible, a
    /// trend is only judged over at least this span: only a whole day tells a trend from a daily
    /// cycle. Default 24 h.
    public var minimumWindowWithVaryingTrafficSeconds: Double = 24 * 3600
    /// …or this span when the traffic fit explained the floor and removed the cycle. Default 24 h
    /// (no shortcut).
    public var minimumWindowWhenTrafficExplainsSeconds: Double = 24 * 3600
    /// One-off steps: the smallest Theil–Sen slope among the window's thirds must be at least this
    /// fraction of the whole window's slope. Default 0.2.
    public var minimumThirdSlopeRatio: Double = 0.2
    /// Noisy wander: growth over a window must exceed this multiple of the largest fall of the floor
    /// within a span as long, in the instance's history before the window (a series that came
    /// down that far on its own goes up that far on its own). Default 1.5.
    public var priorSwingRatio: Double = 1.5
    /// Saturation (warm-up, caches filling to a cap): growth in the last third must be at least this
    /// fraction of the growth in the middle third. Default 0.6.
    public var saturationRatio: Double = 0.6
    /// The allocation rate counts as a traffic signal when the 10–90 % spread of its smoothed
    /// course (`trafficSmoothingSeconds`) is at least this fraction of its median. Default 0.05.
    public var trafficVariationFraction: Double = 0.05
    /// Span of the centred moving median that separates a traffic cycle from request noise.
    /// Default 2 h: a real server's allocation rate jitters by ±10 % from one 10-minute bucket to
    /// the next (docs/examples/simulate/web-3.csv), which read as "traffic varies" on the raw
    /// buckets and held every such host's verdict back for a day.
    public var trafficSmoothingSeconds: Double = 2 * 3600
    /// …and that spread must be at least this many times the bucket-to-bucket noise divided by the
    /// square root of the buckets per smoothing span (pure noise, median-smoothed, spreads about
    /// 3.2 such units from its 10th to its 90th percentile). Default 6.
    public var trafficNoiseMultiple: Double = 6
    /// Largest daily cycle of the heap floor, as a fraction of the heap, that the analysis allows
    /// for while traffic varies and a whole day has not been seen: a window whose growth is larger
    /// than such a cycle could make over the window's length (2·A·sin(π·W / 24 h)) is judged now
    /// instead of after a day. Default 0.3 (±30 %: the largest rising phase then gains 7.9 %/h at
    /// most, so a leak of 10 %/h and more does not wait for a day).
    public var dailyCycleAmplitudeFraction: Double = 0.3
    /// A window that starts within this long of its process's start, or of the first snapshot seen
    /// of a process first seen while running, must grow at least
    /// `warmUpMaterialRateFractionPerHour` of the heap per hour. 0 (the default) disables: the
    /// base scale's grace period already covers it; a fast scale sets it to the time the base
    /// scale needs to judge a process on its own (grace, margin, shortest window), since a warm-up
    /// is as long however fast the leak, and a process watched for minutes has no history that
    /// tells the rising phase of a recurring swing (a sawtooth, a batch) from a leak.
    public var warmUpSeconds: Double = 0
    /// See `warmUpSeconds`.
    public var warmUpMaterialRateFractionPerHour: Double = 0
    /// Fast time scales: the same analysis with its durations divided by a factor, for leaks fast
    /// enough to be certain in minutes (a leak that doubles the heap in an hour must not wait out a
    /// grace hour and a 3 h window). Each judges only growth at least its `minimumRateFractionPerHour`
    /// of the heap, and its verdict counts only when it is decisive (a suspected leak, or one that
    /// passed every test but its confirmation). Daily-cycle durations are not divided: a day is
    /// still a day. ×60 has 10 s buckets: it needs snapshots every 3 s or less (three a bucket) and
    /// is idle at the agent's default 10 s.
    public var fastTimeScales: [FastTimeScale] = [
        FastTimeScale(factor: 4, minimumRateFractionPerHour: 0.08),
        FastTimeScale(factor: 12, minimumRateFractionPerHour: 0.3),
        FastTimeScale(factor: 60, minimumRateFractionPerHour: 2),
    ]
    /// A process first seen while already running (its start before the data, past its grace
    /// period) is treated as having varying traffic until it has been observed this long: steady
    /// traffic over a few hours does not rule out a daily cycle, which is flat near its peak and
    /// trough while memory lagging it still rises (tuning seeds 1–64: a lagged daily cycle flagged
    /// 3.8 h after it was first seen). Default 6 h (a daily cycle of ±30 % moves by more than the
    /// 5 % variation gate in any 6 h). Not applied to an instance whose start is in view: its
    /// grace period and margin already hold it back, and applying it there cost restart-reset leaks
    /// 1.7 h of median delay on tuning seeds 1–64 for no false alarm fewer.
    public var minimumTrafficObservationSeconds: Double = 6 * 3600
    /// Restarts: the pooled growth within the longest instance must be at least this many times the
    /// scatter (1.4826·MAD) of the bucket floors around each instance's line at the pooled rate
    /// (0 disables). Guards against sites whose sampling noise passes the pooled trend score
    /// (tuning seeds 1–320: 4 of 320 restart series flagged without it, 1 with 3, none with 5; the
    /// median delay on restart-reset leaks unchanged at 5.3 h). Default 5, as for one window
    /// (`minimumSignalToNoise`).
    public var minimumSignalToNoiseAcrossRestarts: Double = 5
    /// Largest lag of memory behind traffic searched for. Default 8 h.
    public var maximumTrafficLagSeconds: Double = 8 * 3600
    /// Step of the lag search. Default 30 min.
    public var trafficLagStepSeconds: Double = 1800
    /// Traffic explains the floor when adding it to a trend-only fit removes at least this fraction
    /// of the residual variance. Default 0.5.
    public var trafficExplainedFraction: Double = 0.5
    /// Span compared day over day (last span vs the same span `dayOverDayLagSeconds` earlier).
    /// Default 3 h.
    public var dayOverDaySpanSeconds: Double = 3 * 3600
    /// How far back the day-over-day comparison looks: the period of the traffic cycle. Default 24 h.
    public var dayOverDayLagSeconds: Double = 24 * 3600
    /// Day over day, the floor must have grown by at least this fraction of what the window's rate
    /// predicts. Default 0.5.
    public var dayOverDayRatio: Double = 0.5
    /// A suspected leak's start is where its trend line meets the median floor over this span before
    /// the window (the level held before the growth). Default 3 h.
    public var priorLevelSeconds: Double = 3 * 3600
    /// A suspected leak must also have been one on the data available this long before (0
    /// disables). Default 1 h.
    public var confirmationSeconds: Double = 3600
    /// While the instance's start is inside `windowSeconds`, the whole-instance window begins this
    /// long after the grace period: the tail of a slow warm-up or of a cache still filling sits
    /// just after the grace period and, in a window starting there, passes the thirds tests often
    /// enough to raise false alarms on restarted processes and caches (3 of 432 ok series on
    /// tuning seeds 17–64 without it, 1 with it; slow leaks are found ~1 h later). Default 1 h.
    public var instanceWindowMarginSeconds: Double = 3600
    /// Restarts: an instance contributes to the pooled (previous + current instance) test when it has
    /// at least this much data after its grace period. Default 1 h.
    public var minimumInstanceTrendSeconds: Double = 3600

    public init() {}
}

/// One fast time scale of the analysis (`VerdictConfiguration.fastTimeScales`).
public struct FastTimeScale: Sendable, Hashable {
    /// Every duration of the analysis (grace period, buckets, windows, confirmation) is divided by
    /// this, except the daily-cycle ones.
    public var factor: Double
    /// Growth slower than this fraction of the heap per hour is left to slower scales.
    public var minimumRateFractionPerHour: Double
    /// Saturation test at this scale: growth in the last third at least this fraction of the middle
    /// third's. Stricter than the base scale's 0.6: over a few minutes a warm-up's exponential
    /// approach is nearly straight, and a leak fast enough for this scale is straight well beyond
    /// its noise. Default 0.85.
    public var saturationRatio: Double
    /// Until the base scale can judge a process on its own (its grace period, margin and shortest
    /// window after the start), growth must be at least this fraction of the heap per hour to be
    /// judged at this scale. A young heap fills fast and straight: the generator's warm-ups and
    /// cache fills at up to 6.7×/h, and in the recorded set redis filling to maxmemory from
    /// 0.1 MiB and a C cache filling to its cap at 2–6×/h were flagged within 30 minutes at 2×/h.
    /// Default 10: only a heap growing tenfold an hour, the leak that ends in an OOM kill within
    /// the hour, is judged before then.
    public var warmUpRateFractionPerHour: Double

    public init(
        factor: Double, minimumRateFractionPerHour: Double, saturationRatio: Double = 0.85, warmUpRateFractionPerHour: Double = 10
    ) {
        self.factor = factor
        self.minimumRateFractionPerHour = minimumRateFractionPerHour
        self.saturationRatio = saturationRatio
        self.warmUpRateFractionPerHour = warmUpRateFractionPerHour
    }
}
