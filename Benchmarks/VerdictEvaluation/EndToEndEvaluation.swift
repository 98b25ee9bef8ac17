import LeakAnalysis
import SyntheticSeries
import VerdictReplay

/// The `--path collector` run: labelled series replayed through a real collector each
/// (`CollectorReplay`), scored on the stored verdicts.
struct EndToEndEvaluation {
    let cadenceSeconds: Double
    let jobs: Int
    let verbose: Bool

    func run(generated kinds: [SeriesKind], seeds: [UInt64], label: String) async throws {
        let cases = kinds.flatMap { kind in seeds.map { (kind, $0) } }
        let started = monotonicSeconds()
        let scored = try await replay(count: cases.count) { index in
            LabelledReplay(SyntheticSeriesGenerator.make(kind: cases[index].0, seed: cases[index].1))
        }
        printTables(scored, label: label, kinds: kinds.map(\.rawValue), elapsed: monotonicSeconds() - started)
    }

    func run(recorded directory: String) async throws {
        let started = monotonicSeconds()
        let replays = try RecordedSeriesSet.load(directory: directory)
        let scored = try await replay(count: replays.count) { replays[$0] }
        var kinds: [String] = []
        for replay in replays where !kinds.contains(replay.kind) { kinds.append(replay.kind) }
        printTables(scored, label: "RECORDED \(directory)", kinds: kinds, elapsed: monotonicSeconds() - started)
    }

    /// A replayed series, and the analyzer's statuses at the same moments on the same rows.
    struct Scored: Sendable {
        var timeline: VerdictTimeline
        var analyzerStatuses: [String]
    }

    /// Replays `count` series, `jobs` at a time, in order of `make`'s index; keeps no series data.
    private func replay(count: Int, _ make: @escaping @Sendable (Int) -> LabelledReplay) async throws -> [Scored] {
        let replay = CollectorReplay(cadenceSeconds: cadenceSeconds)
        let analyzer = AnalyzerReplay(configuration: replay.verdictConfiguration)
        var results = [Scored?](repeating: nil, count: count)
        try await withThrowingTaskGroup(of: (Int, Scored).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                group.addTask {
                    let timeline = try await replay.replay(make(index))
                    let direct = analyzer.statuses(timeline.replay, at: timeline.statuses.map(\.tSeconds))
                    return (index, Scored(timeline: timeline.withoutSeries, analyzerStatuses: direct))
                }
            }
            while next < min(jobs, count) { start() }
            while let (index, timeline) = try await group.next() {
                results[index] = timeline
                if next < count { start() }
            }
        }
        return results.compactMap { $0 }
    }

    private func printTables(_ scored: [Scored], label: String, kinds: [String], elapsed: Double) {
        let timelines = scored.map(\.timeline)
        print("")
        print("== \(label), END TO END (agent protocol -> collector -> SQLite -> verdict pass): \(timelines.count) series, "
            + "evaluated every \(Int(cadenceSeconds)) s of series time ==")
        print("kind                 n  label  | suspected  delay(h) named | growing  delay(h) | at end: growing+suspected")
        for kind in kinds {
            let rows = timelines.filter { $0.replay.kind == kind }
            guard let first = rows.first else { continue }
            let isLeak = first.replay.isLeak
            let flagged = Double(rows.filter { isLeak ? $0.detected : $0.falseAlarm }.count) / Double(rows.count)
            let raised = Double(rows.filter { isLeak ? $0.firstGrowingAfterOnsetSeconds != nil : $0.firstGrowingSeconds != nil }.count)
                / Double(rows.count)
            let atEnd = Double(rows.filter(\.raisedAtEnd).count) / Double(rows.count)
            let named = rows.compactMap(\.namedExactly)
            let namedText = isLeak && !named.isEmpty ? percent(Double(named.filter { $0 }.count) / Double(named.count)) : "     -"
            print(
                padRight(kind, 18) + pad("\(rows.count)", 4) + "  " + (isLeak ? "leak " : "ok   ") + "  |   " + percent(flagged)
                    + "  " + hours(TimelineSummary.median(rows.compactMap(\.delayToSuspectedSeconds))) + "  " + namedText
                    + " | " + percent(raised) + "  " + hours(TimelineSummary.median(rows.compactMap(\.delayToGrowingSeconds)))
                    + "    |   " + percent(atEnd))
            if verbose {
                for row in rows { print("    " + describe(row)) }
            }
        }
        let summary = TimelineSummary(timelines)
        let detection = summary.detection, atEnd = summary.atEnd
        print("(suspected = suspectedLeak at or after onset for leak kinds, ever for ok kinds; growing = growing or suspectedLeak; delays from onset)")
        print("overall")
        print("  suspectedLeak ever at/after onset: precision " + percent(detection.precision) + "  recall " + percent(detection.recall)
            + "  false-positive rate (ok kinds) " + percent(detection.falsePositiveRate)
            + "   TP \(detection.truePositives) FP \(detection.falsePositives) of \(detection.positives) leaks, "
            + "\(detection.flaggedNegatives)/\(detection.negatives) ok series flagged")
        print("  growing or suspectedLeak at final: precision " + percent(atEnd.precision) + "  recall " + percent(atEnd.recall)
            + "  false-positive rate (ok kinds) " + percent(atEnd.falsePositiveRate)
            + "   TP \(atEnd.truePositives) FP \(atEnd.falsePositives) of \(atEnd.positives) leaks")
        print("  median delay to suspectedLeak " + hours(summary.medianDelayToSuspectedSeconds) + " h, to growing "
            + hours(summary.medianDelayToGrowingSeconds) + " h")
        let masked = timelines.filter { $0.replay.kind == SeriesKind.maskedSiteLeak.rawValue }
        if !masked.isEmpty {
            let exactly = masked.filter { $0.namedExactly == true }.count
            print("  masked site named exactly: \(exactly)/\(masked.count) = " + percent(Double(exactly) / Double(masked.count)))
        }
        printAgreement(scored)
        let snapshots = timelines.reduce(0) { $0 + $1.snapshots }
        let evaluations = timelines.reduce(0) { $0 + $1.evaluations }
        let rolledUp = timelines.reduce(0) { $0 + $1.rolledUpSnapshots }
        print("  retention folded \(rolledUp) raw snapshots into 1-minute rollups during the replays")
        print("  \(snapshots) snapshots sent and \(evaluations) verdict passes in \(format1(elapsed)) s wall "
            + "(\(Int(Double(snapshots) / max(elapsed, 1e-9))) snapshots/s, \(jobs) at a time)")
    }

    /// How often the stored status equals the analyzer's on the same rows at the same moment, with
    /// the collector's configuration: where the two paths part, and by how much.
    private func printAgreement(_ scored: [Scored]) {
        let windowSeconds = CollectorReplay(cadenceSeconds: cadenceSeconds).verdictConfiguration.windowSeconds
        var same = 0, total = 0, finalSame = 0
        var differences: [String] = []
        for (timeline, direct) in scored.map({ ($0.timeline, $0.analyzerStatuses) }) {
            var parted: [String] = []
            for (stored, expected) in zip(timeline.statuses, direct) {
                total += 1
                if stored.status == expected { same += 1 } else {
                    parted.append("t=\(format1(stored.tSeconds / 3600))h \(stored.status)/\(expected)")
                }
            }
            if timeline.finalStatus == direct.last { finalSame += 1 }
            if !parted.isEmpty { differences.append("    \(timeline.replay.host): " + parted.prefix(6).joined(separator: ", ")
                + (parted.count > 6 ? " ... (\(parted.count))" : "")) }
        }
        print("  stored status = analyzer's on the same rows at the same moment (collector's configuration, "
            + "\(format1(windowSeconds / 3600)) h window): \(same)/\(total) evaluations, "
            + "final status \(finalSame)/\(scored.count) series")
        if verbose && !differences.isEmpty {
            print("  where they differ (collector/analyzer):")
            differences.forEach { print($0) }
        }
    }

    private func describe(_ row: VerdictTimeline) -> String {
        let start = row.firstRowSeconds
        func at(_ seconds: Double?) -> String { seconds.map { format1(($0 - start) / 3600) + "h" } ?? "-" }
        var line = "\(row.replay.host): onset \(at(row.replay.leakStartSeconds)), first growing \(at(row.firstGrowingSeconds)), "
            + "first suspected \(at(row.firstSuspectedSeconds)), final \(row.finalStatus)"
        if let delay = row.delayToSuspectedSeconds { line += " (\(format1(delay / 3600)) h after onset)" }
        if let named = row.namedExactly { line += ", named exactly \(named)" }
        if row.falseAlarm { line += " FALSE-ALARM" }
        if row.replay.isLeak && !row.detected { line += " MISSED" }
        return line
    }
}
