// Replays the labelled synthetic set and prints precision, recall, detection delay and masked-site
// naming, per kind and overall, for the tuning seeds and the scoring seeds (never tuned on).
// Two paths:
//
//   --path analyzer (default): the fast inner loop for tuning. Calls the analyzer directly on the
//     bucketed series (48 h window), next to the naive regression baseline. Not what the product runs.
//   --path collector: end to end, the figure to publish. Each series goes to a real collector
//     in-process over TCP with the agent protocol (the `collector-cli simulate` sender), is stored
//     in SQLite, folded by retention every simulated hour, and judged by the collector's own
//     verdict pass every --cadence; the status read back is the one `collector-cli hosts` shows.
//     Scores the scoring seeds unless --split says otherwise; --series-dir DIR also scores a
//     recorded set (see Benchmarks/VerdictReplay/RecordedSeriesSet.swift for its layout).
//     It runs the collector's own verdict configuration (48 h window); --set changes only the
//     analyzer path, where --set windowHours=24 gives it the collector's window.
//
//   swift run -c release VerdictEvaluation [--path analyzer|collector] [--split tuning|scoring|both]
//       [--seeds N] [--cadence SECONDS] [--kind NAME] [--verbose] [--series-dir DIR] [--jobs N]
//
// --seeds N: the first N seeds of each split per kind (default all 16 on the analyzer path, 8 on
// the collector path: 120 series, about 8 min on one core in release). --jobs N: series replayed at
// once on the collector path (default 1). --split none with --series-dir scores the recorded set alone.
import Dispatch
import LeakAnalysis

#if canImport(Glibc)
import Glibc
import SyntheticSeries
#endif

let defaultTuningSeeds: [UInt64] = Array(1...16)
let allScoringSeeds: [UInt64] = Array(1001...1016)

struct Options: Sendable {
    var path = "analyzer"
    var split: String? = nil
    var seeds: Int? = nil
    var seriesDirectory: String? = nil
    var jobs = 1
    var cadence = 600.0
    var onlyKind: SeriesKind? = nil
    var verbose = false
    var trace: (SeriesKind, UInt64)? = nil
    var configuration = VerdictConfiguration()
    /// Exploration on more tuning seeds (always below 1000: the scoring seeds are 1001...).
    var tuningSeeds = defaultTuningSeeds

    static func parse() -> Options {
        var options = Options()
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--path": options.path = arguments.next() ?? "analyzer"
            case "--split": options.split = arguments.next() ?? "both"
            case "--seeds": options.seeds = Int(arguments.next() ?? "").map { max($0, 1) }
            case "--series-dir": options.seriesDirectory = arguments.next()
            case "--jobs": options.jobs = max(Int(arguments.next() ?? "") ?? 1, 1)
            case "--cadence": options.cadence = Double(arguments.next() ?? "600") ?? 600
            case "--kind": options.onlyKind = SeriesKind(rawValue: arguments.next() ?? "")
            case "--verbose": options.verbose = true
            case "--tuning-seeds":
                let bounds = (arguments.next() ?? "").split(separator: "-").compactMap { UInt64($0) }
                if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] < 1000 { options.tuningSeeds = Array(bounds[0]...bounds[1]) }
            case "--set":
                // Experiments only: --set name=value for a few configuration fields.
                let pair = (arguments.next() ?? "").split(separator: "=").map(String.init)
                guard pair.count == 2, let value = Double(pair[1]) else { break }
                switch pair[0] {
                case "leakZ": options.configuration.leakZ = value
                case "snr": options.configuration.minimumSignalToNoise = value
                case "rate": options.configuration.materialRateFractionPerHour = value
                case "growth": options.configuration.materialGrowthFraction = value
                case "grace": options.configuration.gracePeriodSeconds = value
                case "third": options.configuration.minimumThirdSlopeRatio = value
                case "saturation": options.configuration.saturationRatio = value
                case "confirm": options.configuration.confirmationSeconds = value
                case "bucketTest": options.configuration.trendTestOnBucketFloors = value != 0
                case "runningMin": options.configuration.runningMinimumSeconds = value
                case "onsetExtraZ": options.configuration.onsetExtraZ = value
                case "maxOnsetHours": options.configuration.maximumOnsetWindowSeconds = value * 3600
                case "onsetHours": options.configuration.minimumOnsetWindowSeconds = value * 3600
                case "onsetAllowance": options.configuration.onsetAllowanceFraction = value
                case "onsetOnBuckets": options.configuration.onsetOnBucketFloors = value != 0
                case "opening": options.configuration.floorSmoothing = value != 0 ? .opening : .trailingMinimum
                case "swing": options.configuration.priorSwingRatio = value
                case "traffic": options.configuration.trafficVariationFraction = value
                case "explainedWindowHours": options.configuration.minimumWindowWhenTrafficExplainsSeconds = value * 3600
                case "marginHours": options.configuration.instanceWindowMarginSeconds = value * 3600
                case "lagStepMinutes": options.configuration.trafficLagStepSeconds = value * 60
                case "varyingWindowHours": options.configuration.minimumWindowWithVaryingTrafficSeconds = value * 3600
                case "extraWindowHours": options.configuration.trendWindowsSeconds.insert(value * 3600, at: 0)
                case "trafficObservationHours": options.configuration.minimumTrafficObservationSeconds = value * 3600
                case "restartSNR": options.configuration.minimumSignalToNoiseAcrossRestarts = value
                case "shortestWindowHours": options.configuration.trendWindowsSeconds[0] = value * 3600
                case "fastScales": if value == 0 { options.configuration.fastTimeScales = [] }
                case "windowHours": options.configuration.windowSeconds = value * 3600
                default: print("unknown setting \(pair[0])")
                }
            case "--trace":
                if let kind = SeriesKind(rawValue: arguments.next() ?? ""), let seed = UInt64(arguments.next() ?? "") {
                    options.trace = (kind, seed)
                }
            default:
                print("usage: VerdictEvaluation [--path analyzer|collector] [--split tuning|scoring|both] [--seeds N] "
                    + "[--cadence SECONDS] [--kind NAME] [--verbose] [--series-dir DIR] [--jobs N]")
                exit(2)
            }
        }
        guard options.path == "analyzer" || options.path == "collector" else {
            print("--path must be analyzer (the analyzer called directly) or collector (end to end); got \(options.path)")
            exit(2)
        }
        return options
    }

    /// The first `--seeds` of a split.
    func limited(_ seeds: [UInt64]) -> [UInt64] { self.seeds.map { Array(seeds.prefix($0)) } ?? seeds }
}
let options = Options.parse()
let cadence = options.cadence
let tuningSeeds = options.limited(options.tuningSeeds)
let scoringSeeds = options.limited(allScoringSeeds)

func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func hours(_ seconds: Double?) -> String {
    guard let seconds else { return "    -" }
    return pad(String(format1(seconds / 3600)), 5)
}
func format1(_ value: Double) -> String {
    let scaled = (value * 10).rounded()
    return "\(Int(scaled) / 10).\(abs(Int(scaled)) % 10)"
}
func format2(_ value: Double) -> String {
    let scaled = Int((value * 100).rounded())
    return "\(scaled / 100).\(scaled % 100 < 10 ? "0" : "")\(scaled % 100)"
}
func fraction4(_ value: Double) -> String {
    let scaled = Int((value * 10000).rounded())
    return "\(scaled / 10000).\(String(repeating: "0", count: 4 - String(scaled % 10000).count))\(scaled % 10000)"
}
func percent(_ value: Double) -> String { pad(format1(value * 100), 5) + "%" }
func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
func padRight(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }

final class Results: @unchecked Sendable {
    var outcomes: [ReplayOutcome?]
    init(count: Int) { outcomes = Array(repeating: nil, count: count) }
}

func run(seeds: [UInt64], label: String) -> [ReplayOutcome] {
    let kinds = options.onlyKind.map { [$0] } ?? SeriesKind.allCases
    let jobs = kinds.flatMap { kind in seeds.map { (kind, $0) } }
    let evaluator = ReplayEvaluator(configuration: options.configuration, cadenceSeconds: cadence)
    let results = Results(count: jobs.count)
    let lock = NSLockLike()
    let started = monotonicSeconds()
    DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
        let (kind, seed) = jobs[index]
        let series = SyntheticSeriesGenerator.make(kind: kind, seed: seed)
        let outcome = evaluator.replay(series)
        lock.withLock { results.outcomes[index] = outcome }
    }
    let elapsed = monotonicSeconds() - started
    let outcomes = results.outcomes.compactMap { $0 }
    printTable(outcomes, label: label, elapsed: elapsed)
    return outcomes
}

/// A pthread mutex: the benchmark avoids Foundation.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock(_ body: () -> Void) {
        pthread_mutex_lock(&mutex)
        body()
        pthread_mutex_unlock(&mutex)
    }
}

func printTable(_ outcomes: [ReplayOutcome], label: String, elapsed: Double) {
    print("")
    print("== \(label): \(outcomes.count) series, evaluated every \(Int(cadence)) s of series time ==")
    print("kind                 n  label  | engine: flagged  delay(h) named | baseline: flagged delay(h)")
    for kind in SeriesKind.allCases {
        let rows = outcomes.filter { $0.kind == kind }
        guard !rows.isEmpty else { continue }
        let flagged: Double
        let baselineFlagged: Double
        if kind.isLeak {
            flagged = Double(rows.filter(\.detected).count) / Double(rows.count)
            baselineFlagged = Double(rows.filter(\.baselineDetected).count) / Double(rows.count)
        } else {
            flagged = Double(rows.filter(\.falseAlarm).count) / Double(rows.count)
            baselineFlagged = Double(rows.filter(\.baselineFalseAlarm).count) / Double(rows.count)
        }
        let delays = rows.compactMap(\.detectionDelaySeconds).sorted()
        let baselineDelays = rows.compactMap(\.baselineDelaySeconds).sorted()
        let named = rows.compactMap(\.namedExactly)
        let namedText = kind.isLeak && !named.isEmpty ? percent(Double(named.filter { $0 }.count) / Double(named.count)) : "     -"
        print(
            padRight(kind.rawValue, 18) + pad("\(rows.count)", 4) + "  " + (kind.isLeak ? "leak " : "ok   ") + "  |        "
                + percent(flagged) + "  " + hours(delays.isEmpty ? nil : delays[delays.count / 2]) + "   " + namedText
                + " |         " + percent(baselineFlagged) + " " + hours(baselineDelays.isEmpty ? nil : baselineDelays[baselineDelays.count / 2]))
        if options.verbose {
            for row in rows {
                let early = row.falseAlarm ? " FALSE-ALARM" : ""
                let missed = row.isLeak && !row.detected ? " MISSED" : ""
                print("    seed \(row.seed): delay \(hours(row.detectionDelaySeconds)) named \(row.namedExactly.map { "\($0)" } ?? "-")\(early)\(missed)")
            }
        }
    }
    let summary = EvaluationSummary(outcomes)
    print("(flagged = detected for leak kinds, ever flagged = false alarm for ok kinds)")
    print("overall             engine    baseline")
    func verdict(_ met: Bool) -> String { met ? "met" : "NOT MET" }
    print("  precision         " + percent(summary.precision) + "    " + percent(summary.baselinePrecision)
        + "   (target >= 97%: \(verdict(summary.precision >= 0.97)), exactly \(summary.truePositives)/\(summary.truePositives + summary.falsePositives) = \(fraction4(summary.precision)))")
    print("  recall            " + percent(summary.recall) + "    " + percent(summary.baselineRecall)
        + "   (target >= 93%: \(verdict(summary.recall >= 0.93)))")
    print("  median delay (h)  " + hours(summary.medianDelaySeconds) + "      " + hours(summary.baselineMedianDelaySeconds)
        + "    (target <= 4 h: \(verdict((summary.medianDelaySeconds ?? .infinity) <= 4 * 3600)))")
    print("  masked site named exactly: \(summary.maskedNamedExactly)/\(summary.maskedSeries) = " + percent(summary.maskedNamingRate)
        + " (target >= 95%: \(verdict(summary.maskedNamingRate >= 0.95)))")
    print("  TP \(summary.truePositives)  FP \(summary.falsePositives)  positives \(summary.positives)   baseline TP \(summary.baselineTruePositives) FP \(summary.baselineFalsePositives)")
    let evaluations = outcomes.reduce(0) { $0 + $1.evaluations }
    let points = outcomes.reduce(0) { $0 + $1.rawPoints }
    print("  throughput: \(evaluations) engine evaluations in \(format1(elapsed)) s wall (\(Int(Double(evaluations) / max(elapsed, 1e-9))) evaluations/s, incl. generation and bucketing of \(points) raw points)")
}

/// Prints every evaluation of one series whose verdict is not ok (host and sites).
func trace(kind: SeriesKind, seed: UInt64) {
    let series = SyntheticSeriesGenerator.make(kind: kind, seed: seed)
    let evaluator = ReplayEvaluator(configuration: options.configuration, cadenceSeconds: cadence)
    let analyzer = LeakAnalyzer(configuration: evaluator.configuration)
    let hostSeries = HostSeries(points: series.points, sites: series.sites, configuration: evaluator.configuration)
    print("\(kind.rawValue) seed \(seed): \(format1((series.endSeconds - series.startSeconds) / 3600)) h, leak start "
        + "\(series.leakStartSeconds.map { format1(($0 - series.startSeconds) / 3600) } ?? "-") h, leaking sites \(series.leakingSites.sorted())")
    for t in evaluator.evaluationTimes(series) {
        let prefix = hostSeries.prefix(endingBeforeSeconds: t, configuration: evaluator.configuration)
        let verdict = analyzer.evaluate(prefix)
        guard verdict.status != .ok else { continue }
        let age = prefix.base.host.last.map { t - $0.instanceStartSeconds } ?? 0
        var line = "  t=\(format1((t - series.startSeconds) / 3600))h age=\(format1(age / 3600))h \(verdict.status) total=\(verdict.total.status)/\(verdict.total.reason.rawValue)"
        line += " rate=\(format1(verdict.total.rateBytesPerHour / 1e6))MB/h win=\(format1(verdict.total.windowSeconds / 3600))h scale=\(verdict.total.timeScale)"
        for (scale, bucketed) in zip(evaluator.configuration.fastTimeScales, prefix.fast) {
            let fast = LeakAnalyzer(configuration: evaluator.configuration.atFastScale(scale)).evaluate(bucketed)
            line += " [x\(Int(scale.factor)) \(fast.total.status)/\(fast.total.reason.rawValue) \(format1(fast.total.rateBytesPerHour / 1e6))MB/h]"
        }
        for site in verdict.sites where site.status != .ok {
            line += " | site \(site.siteID % 1000) \(site.status)/\(site.verdict.reason.rawValue) \(format1(site.rateBytesPerHour / 1e6))MB/h win=\(format1(site.verdict.windowSeconds / 3600))h"
        }
        print(line)
    }
    let heap = series.points.map { Double($0.heapBytes) }
    for hour in stride(from: 0.0, through: 3.0, by: 0.25) {
        let index = min(heap.count - 1, Int(hour * 360))
        print("  heap at \(format1(hour)) h: \(format1(heap[index] / 1e6)) MB")
    }
    print("  heap first \(format1(heap.first! / 1e6)) MB last \(format1(heap.last! / 1e6)) MB")
}

print("VerdictEvaluation — reference: RESIN (Azure) precision 0.85, recall 0.91")
if let (kind, seed) = options.trace {
    trace(kind: kind, seed: seed)
    exit(0)
}
/// Cost of what the collector calls: `evaluateHost` on 48 h of 10-second points with four sites.
/// The host's and sites' points whose time lies in `(after, through]`.
func slice(_ points: [HostPoint], _ sites: [SiteID: [SitePoint]], after from: Double, through end: Double)
    -> (points: [HostPoint], sites: [SiteID: [SitePoint]])
{
    (points.filter { $0.timestampSeconds > from && $0.timestampSeconds <= end },
     sites.mapValues { $0.filter { $0.timestampSeconds > from && $0.timestampSeconds <= end } })
}

/// The last 48 h of a generated series: what the collector judges.
func last48Hours(_ kind: SeriesKind, seed: UInt64) -> (points: [HostPoint], sites: [SiteID: [SitePoint]]) {
    let series = SyntheticSeriesGenerator.make(kind: kind, seed: seed)
    let end = series.points.last!.timestampSeconds
    return slice(series.points, series.sites, after: end - 48 * 3600, through: end)
}

func measureSingleEvaluation() {
    let series = last48Hours(.leakOnDailyCycle, seed: 7)
    let end = series.points.last!.timestampSeconds
    let analyzer = LeakAnalyzer(configuration: options.configuration)
    _ = analyzer.evaluateHost(series.points, sites: series.sites)
    let repetitions = 20
    var started = monotonicSeconds()
    var suspected = 0
    for _ in 0..<repetitions where analyzer.evaluateHost(series.points, sites: series.sites).status == .suspectedLeak { suspected += 1 }
    let perCall = (monotonicSeconds() - started) / Double(repetitions)
    // What a pass costs when the buckets are kept between passes (the collector's path): a pass
    // every minute over the last hour adds that minute's snapshots and judges.
    let seedEnd = end - 3600
    var accumulator = HostSeriesAccumulator(configuration: options.configuration)
    let seed = slice(series.points, series.sites, after: -.infinity, through: seedEnd)
    accumulator.append(seed.points, sites: seed.sites)
    let batches = stride(from: seedEnd + 60, through: end, by: 60).map {
        slice(series.points, series.sites, after: $0 - 60, through: $0)
    }
    started = monotonicSeconds()
    for batch in batches {
        accumulator.append(batch.points, sites: batch.sites)
        _ = analyzer.evaluate(accumulator.series)
    }
    let passes = batches.count
    let perEvaluation = (monotonicSeconds() - started) / Double(passes)
    let rawPoints = series.points.count + series.sites.values.reduce(0) { $0 + $1.count }
    print("evaluateHost on 48 h (\(series.points.count) host points + 4 sites, \(rawPoints) points in all): "
        + "\(format1(perCall * 1000)) ms per call (verdict \(suspected == repetitions ? "suspectedLeak" : "not suspected")); "
        + "a pass on kept buckets \(format2(perEvaluation * 1000)) ms (\(passes) passes a minute apart)")
    var costs: [String] = []
    for kind in SeriesKind.allCases {
        let series = last48Hours(kind, seed: 7)
        let bucketed = HostSeries.forNewestMoment(points: series.points, sites: series.sites, configuration: options.configuration)
        let started = monotonicSeconds()
        var status = LeakStatus.ok
        for _ in 0..<repetitions { status = analyzer.evaluate(bucketed).status }
        costs.append("\(kind.rawValue) \(format2((monotonicSeconds() - started) / Double(repetitions) * 1000)) (\(status))")
    }
    print("on buckets alone, ms per host by kind: " + costs.joined(separator: ", "))
}

if options.path == "collector" {
    let split = options.split ?? "scoring"
    let seeds = options.seeds ?? 8
    let kinds = options.onlyKind.map { [$0] } ?? SeriesKind.allCases
    let evaluation = EndToEndEvaluation(cadenceSeconds: cadence, jobs: options.jobs, verbose: options.verbose)
    do {
        if split == "tuning" || split == "both" {
            let seeds = Array(options.tuningSeeds.prefix(seeds))
            try await evaluation.run(generated: kinds, seeds: seeds, label: "TUNING seeds \(seeds.first!)...\(seeds.last!)")
        }
        if split == "scoring" || split == "both" {
            let seeds = Array(allScoringSeeds.prefix(seeds))
            try await evaluation.run(generated: kinds, seeds: seeds, label: "SCORING seeds \(seeds.first!)...\(seeds.last!) (never tuned on)")
        }
        if let directory = options.seriesDirectory {
            try await evaluation.run(recorded: directory)
        }
    } catch {
        print("end-to-end evaluation failed: \(error)")
        exit(1)
    }
    exit(0)
}
measureSingleEvaluation()
let split = options.split ?? "both"
if split == "tuning" || split == "both" { _ = run(seeds: tuningSeeds, label: "TUNING seeds \(tuningSeeds.first!)...\(tuningSeeds.last!)") }
if split == "scoring" || split == "both" { _ = run(seeds: scoringSeeds, label: "SCORING seeds \(scoringSeeds.first!)...\(scoringSeeds.last!) (never tuned on)") }
