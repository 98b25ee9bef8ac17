import Foundation
import LeakAnalysis

/// The one-line evidence a verdict carries to `collector-cli` (`Verdict.explanation`): which test
/// flagged it, or which guard held it back, with its numbers.
enum VerdictExplanation {
    /// - Parameter durationScale: multiplies every duration shown (the collector's analysis time scale).
    static func text(_ verdict: HostVerdict, configuration: VerdictConfiguration, durationScale: Double, growingSites: Int) -> String {
        let sites = "\(growingSites) growing site(s)"
        guard verdict.evaluatedAtSeconds != nil else { return "needs snapshots; " + sites }
        // The deciding series: the total, unless a site decided the status.
        let deciding = verdict.responsibleSites.first.map(\.verdict).flatMap { $0.status > verdict.total.status ? $0 : nil }
            ?? verdict.total
        var text = describe(deciding, configuration: configuration, durationScale: durationScale)
        if deciding.timeScale != 1 { text += ", judged at the ×\(Int(deciding.timeScale)) fast scale" }
        return text + "; " + sites
    }

    static func describe(_ verdict: TrendVerdict, configuration: VerdictConfiguration, durationScale: Double) -> String {
        func duration(_ seconds: Double) -> String { VerdictExplanation.duration(seconds * durationScale) }
        let window = duration(verdict.windowSeconds)
        let score = "trend score \(fixed(verdict.trendScore))"
        switch verdict.reason {
        case .insufficientData:
            guard let more = verdict.moreDataNeededSeconds else { return "needs more snapshots" }
            return "needs about \(VerdictExplanation.duration(max(more * durationScale, 60))) more"
        case .noTrend: return "no upward trend in the heap floor"
        case .notMaterial:
            return "growth below \(percent(configuration.materialRateFractionPerHour))/h of the heap (\(score))"
        case .weakTrend: return "steady growth over \(window), not yet conclusive (\(score), \(fixed(configuration.leakZ)) decides)"
        case .withinNoise: return "held back: growth over \(window) not clear of the noise (\(score))"
        case .stepLike: return "held back: growth over \(window) comes in a step, not a steady rise"
        case .saturating: return "held back: growth over \(window) is slowing down (warm-up or a cache filling)"
        case .explainedByTraffic: return "held back: the heap follows traffic"
        case .noDayOverDayGrowth: return "held back: the heap floor is no higher than a day ago"
        case .withinPastSwings: return "held back: growth over \(window) is no larger than the heap's earlier swings"
        case .possibleDailyCycle:
            return "held back: traffic varies and growth over \(window) is within a daily cycle's reach; a whole day decides"
        case .awaitingConfirmation:
            return "every test passed over \(window) (\(score)); confirming over \(duration(configuration.confirmationSeconds))"
        case .sustainedGrowth: return "sustained growth over \(window) (\(score))"
        case .growthAcrossRestarts: return "growth in every process instance across restarts (\(score))"
        }
    }

    /// `2h 40m`, `15m`, `3d 4h`.
    static func duration(_ seconds: Double) -> String {
        let minutes = Int((max(0, seconds) / 60).rounded())
        if minutes < 60 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 48 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h \(minutes % 60)m" }
        return "\(hours / 24)d \(hours % 24)h"
    }

    private static func percent(_ fraction: Double) -> String { fixed(fraction * 100, digits: 2) + "%" }

    private static func fixed(_ value: Double, digits: Int = 1) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "-"
    }
}
