import LeakCLI

/// What a replayed series' verdicts did over time, from one evaluation every cadence: when the
/// host first read `growing` and `suspectedLeak`, and what it read at the end.
public struct VerdictTimeline: Sendable {
    /// The statuses the collector stores (`VerdictRecord.status`, shown by `collector-cli hosts`).
    public static let suspectedLeak = "suspectedLeak"
    public static let growing = "growing"

    public var replay: LabelledReplay
    /// Where `t_seconds` 0 was put on the wall clock (Unix seconds).
    public var startUnixSeconds: Int64
    /// The stored time of the last verdict read (the host's newest snapshot then), Unix ms.
    public var finalEvaluatedAtMs: Int64?
    /// First evaluation (`t_seconds`) at which the status was `growing` or `suspectedLeak`.
    public var firstGrowingSeconds: Double?
    /// First evaluation at which the status was `suspectedLeak`.
    public var firstSuspectedSeconds: Double?
    /// The same two, counting only evaluations at or after the leak began (nil for ok series).
    public var firstGrowingAfterOnsetSeconds: Double?
    public var firstSuspectedAfterOnsetSeconds: Double?
    /// At the first `suspectedLeak` at or after onset, the `suspectedLeak` sites were exactly the
    /// leaking ones (nil when never flagged after onset).
    public var namedExactly: Bool?
    /// The status after the last evaluation, on all the data; "none" when nothing was evaluated.
    public var finalStatus = "none"
    /// The `site_id`s named `suspectedLeak` at the last evaluation.
    public var finalSuspectedSites: Set<String> = []
    public var evaluations = 0
    /// Every evaluation: its moment (`t_seconds`) and the status read.
    public var statuses: [(tSeconds: Double, status: String)] = []
    /// Raw snapshots retention folded into 1-minute buckets during the replay.
    public var rolledUpSnapshots = 0

    /// Snapshots the replay sent.
    public var snapshots: Int
    /// `t_seconds` of the first row.
    public var firstRowSeconds: Double

    public init(replay: LabelledReplay, startUnixSeconds: Int64) {
        self.replay = replay
        self.startUnixSeconds = startUnixSeconds
        snapshots = replay.series.rows.count
        firstRowSeconds = replay.series.rows.first?.tSeconds ?? 0
    }

    /// The timeline without the series' rows and sites: a run over many series keeps only this
    /// (120 full series held 1.2 GB).
    public var withoutSeries: VerdictTimeline {
        var copy = self
        copy.replay.series = ReplaySeries(host: replay.series.host, rows: [])
        return copy
    }

    /// Records one evaluation at `tSeconds`; `suspectedSites` are the `site_id`s the verdict
    /// named with status `suspectedLeak`.
    public mutating func record(tSeconds: Double, status: String, suspectedSites: Set<String>, evaluatedAtMs: Int64) {
        evaluations += 1
        statuses.append((tSeconds, status))
        finalStatus = status
        finalEvaluatedAtMs = evaluatedAtMs
        finalSuspectedSites = suspectedSites
        let flagged = status == Self.suspectedLeak
        let raised = flagged || status == Self.growing
        let afterOnset = replay.leakStartSeconds.map { tSeconds >= $0 } ?? false
        if raised && firstGrowingSeconds == nil { firstGrowingSeconds = tSeconds }
        if flagged && firstSuspectedSeconds == nil { firstSuspectedSeconds = tSeconds }
        if raised && afterOnset && firstGrowingAfterOnsetSeconds == nil { firstGrowingAfterOnsetSeconds = tSeconds }
        if flagged && afterOnset && firstSuspectedAfterOnsetSeconds == nil {
            firstSuspectedAfterOnsetSeconds = tSeconds
            namedExactly = suspectedSites == replay.leakingSites
        }
    }

    /// Flagged `suspectedLeak` at or after the leak began.
    public var detected: Bool { replay.isLeak && firstSuspectedAfterOnsetSeconds != nil }
    /// Flagged `suspectedLeak` before the leak began, or ever for a series that must stay ok.
    public var falseAlarm: Bool {
        guard let first = firstSuspectedSeconds else { return false }
        return first < (replay.leakStartSeconds ?? .infinity)
    }
    /// What an operator sees at the end: `growing` or `suspectedLeak`.
    public var raisedAtEnd: Bool { finalStatus == Self.suspectedLeak || finalStatus == Self.growing }

    public var delayToSuspectedSeconds: Double? {
        guard let start = replay.leakStartSeconds, let first = firstSuspectedAfterOnsetSeconds else { return nil }
        return first - start
    }
    public var delayToGrowingSeconds: Double? {
        guard let start = replay.leakStartSeconds, let first = firstGrowingAfterOnsetSeconds else { return nil }
        return first - start
    }
}
