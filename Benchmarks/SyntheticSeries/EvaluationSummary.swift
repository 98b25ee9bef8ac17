import LeakAnalysis

/// Precision, recall, delays and naming over a set of replay outcomes.
public struct EvaluationSummary: Sendable {
    public var series: Int
    public var positives: Int
    public var truePositives: Int
    public var falsePositives: Int
    public var precision: Double
    public var recall: Double
    public var medianDelaySeconds: Double?
    public var maskedSeries: Int
    public var maskedNamedExactly: Int
    public var baselineTruePositives: Int
    public var baselineFalsePositives: Int
    public var baselinePrecision: Double
    public var baselineRecall: Double
    public var baselineMedianDelaySeconds: Double?

    public var maskedNamingRate: Double { maskedSeries == 0 ? 1 : Double(maskedNamedExactly) / Double(maskedSeries) }

    public init(_ outcomes: [ReplayOutcome]) {
        series = outcomes.count
        positives = outcomes.filter(\.isLeak).count
        truePositives = outcomes.filter { $0.isLeak && $0.detected }.count
        falsePositives = outcomes.filter(\.falseAlarm).count
        precision = Self.ratio(truePositives, truePositives + falsePositives)
        recall = Self.ratio(truePositives, positives)
        medianDelaySeconds = Quantile.median(outcomes.compactMap(\.detectionDelaySeconds))
        let masked = outcomes.filter { $0.kind == .maskedSiteLeak }
        maskedSeries = masked.count
        maskedNamedExactly = masked.filter { $0.namedExactly == true }.count
        baselineTruePositives = outcomes.filter { $0.isLeak && $0.baselineDetected }.count
        baselineFalsePositives = outcomes.filter(\.baselineFalseAlarm).count
        baselinePrecision = Self.ratio(baselineTruePositives, baselineTruePositives + baselineFalsePositives)
        baselineRecall = Self.ratio(baselineTruePositives, positives)
        baselineMedianDelaySeconds = Quantile.median(outcomes.compactMap(\.baselineDelaySeconds))
    }

    static func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator == 0 ? 1 : Double(numerator) / Double(denominator)
    }
}
