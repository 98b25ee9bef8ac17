/// Precision, recall and false-positive rate over a set of timelines, two ways: `suspectedLeak`
/// ever at or after onset (the detection figure), and `growing` or `suspectedLeak` at the final
/// status (what an operator reading `collector-cli hosts` at the end sees).
public struct TimelineSummary: Sendable {
    public struct Counts: Sendable {
        public var truePositives = 0
        public var falsePositives = 0
        public var positives = 0
        public var negatives = 0
        /// Series that must stay ok and were flagged.
        public var flaggedNegatives = 0

        public var precision: Double { Self.ratio(truePositives, truePositives + falsePositives) }
        public var recall: Double { Self.ratio(truePositives, positives) }
        public var falsePositiveRate: Double { negatives == 0 ? 0 : Double(flaggedNegatives) / Double(negatives) }

        static func ratio(_ numerator: Int, _ denominator: Int) -> Double {
            denominator == 0 ? 1 : Double(numerator) / Double(denominator)
        }
    }

    public var detection = Counts()
    public var atEnd = Counts()
    public var medianDelayToSuspectedSeconds: Double?
    public var medianDelayToGrowingSeconds: Double?

    public init(_ timelines: [VerdictTimeline]) {
        for timeline in timelines {
            if timeline.replay.isLeak {
                detection.positives += 1
                atEnd.positives += 1
                if timeline.detected { detection.truePositives += 1 }
                if timeline.raisedAtEnd { atEnd.truePositives += 1 }
            } else {
                detection.negatives += 1
                atEnd.negatives += 1
                if timeline.falseAlarm { detection.flaggedNegatives += 1 }
                if timeline.raisedAtEnd {
                    atEnd.flaggedNegatives += 1
                    atEnd.falsePositives += 1
                }
            }
            // A leak series flagged before its leak began is a false alarm too, as in the direct mode.
            if timeline.falseAlarm { detection.falsePositives += 1 }
        }
        medianDelayToSuspectedSeconds = Self.median(timelines.compactMap(\.delayToSuspectedSeconds))
        medianDelayToGrowingSeconds = Self.median(timelines.compactMap(\.delayToGrowingSeconds))
    }

    /// The middle value (the upper one of an even count, as the direct mode's tables take it).
    public static func median(_ values: [Double]) -> Double? {
        let sorted = values.sorted()
        return sorted.isEmpty ? nil : sorted[sorted.count / 2]
    }
}
