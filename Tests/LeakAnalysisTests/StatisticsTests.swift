import LeakTestSupport
import Testing

@testable import LeakAnalysis

@Suite("Statistics on known values")
struct StatisticsTests {
    @Test func mannKendallOnAStrictlyIncreasingSeries() {
        let (s, variance) = MannKendall.statistic([1, 2, 3, 4, 5])
        #expect(s == 10)
        #expect(abs(variance - 5.0 * 4 * 15 / 18) < 1e-9)
        let result = MannKendall.test(x: [0, 1, 2, 3, 4], y: [1, 2, 3, 4, 5], hamedRao: false)
        #expect(abs(result.z - 9 / (250.0 / 15).squareRoot()) < 1e-9)
        #expect(abs(result.pValueIncreasing - 0.01375) < 2e-4)
    }

    @Test func mannKendallTieCorrection() {
        // Pairs: (1,1) tie, (1,2) +, (1,2) +  → S = 2; Var = (3·2·11 − 2·1·9)/18.
        let (s, variance) = MannKendall.statistic([1, 1, 2])
        #expect(s == 2)
        #expect(abs(variance - 48.0 / 18) < 1e-9)
    }

    @Test func mannKendallOnADecreasingSeriesIsNegative() {
        let result = MannKendall.test(x: [0, 1, 2, 3, 4, 5], y: [6, 5, 4, 3, 2, 1], hamedRao: false)
        #expect(result.s == -15)
        #expect(result.z < 0)
    }

    @Test func hamedRaoCorrectionMatchesTheFormula() {
        // Expected values computed independently (Python) from n/n* = 1 + 2/(n(n−1)(n−2)) ·
        // Σ (n−k)(n−k−1)(n−k−2) ρ_k over significant lags.
        let zigzag: [Double] = [1, 3, 2, 5, 4, 7, 6, 9, 8, 10, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19]
        #expect(abs(MannKendall.hamedRaoCorrection(zigzag) - 4.038685529613508) < 1e-9)
        let ramp = (1...16).map(Double.init)
        #expect(abs(MannKendall.hamedRaoCorrection(ramp) - 3.136636029411765) < 1e-9)
    }

    @Test func hamedRaoCorrectionIsOneWithoutAutocorrelation() {
        // Alternating ranks: the only significant autocorrelation is negative; never below 1.
        let alternating: [Double] = [1, 8, 2, 7, 3, 6, 4, 5]
        #expect(MannKendall.hamedRaoCorrection(alternating) == 1)
    }

    @Test func hamedRaoWeakensATestOnAutocorrelatedWander() {
        // A slow sine sampled densely: the plain test sees a strong trend in its rising half.
        let x = (0..<60).map(Double.init)
        let y = x.map { Math.sin($0 / 60 * Double.pi) + 0.01 * $0 }
        let plain = MannKendall.test(x: x, y: y, hamedRao: false)
        let corrected = MannKendall.test(x: x, y: y, hamedRao: true)
        #expect(corrected.varianceCorrection > 1)
        #expect(abs(corrected.z) < abs(plain.z))
    }

    @Test func ranksAverageTies() {
        #expect(MannKendall.ranksOf([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])
    }

    @Test func theilSenIgnoresAnOutlier() {
        let slope = TheilSen.slope(x: [0, 1, 2, 3, 4], y: [0, 2, 4, 6, 100])
        #expect(slope == 2)
        #expect(TheilSen.intercept(x: [0, 1, 2, 3, 4], y: [0, 2, 4, 6, 100], slope: 2) == 0)
    }

    @Test func theilSenNeedsTwoDistinctTimes() {
        #expect(TheilSen.slope(x: [1], y: [1]) == nil)
        #expect(TheilSen.slope(x: [1, 1], y: [1, 2]) == nil)
    }

    @Test func quantilesInterpolate() {
        #expect(Quantile.of([4, 1, 3, 2], 0.1)! == 1.3)
        #expect(Quantile.median([3, 1, 2]) == 2)
        #expect(Quantile.median([4, 1, 3, 2]) == 2.5)
        var even: [Double] = [9, 1, 8, 2, 7, 3]
        #expect(Quantile.medianInPlace(&even) == 5)
        var odd: [Double] = [5, 1, 4, 2, 3]
        #expect(Quantile.medianInPlace(&odd) == 3)
        #expect(Quantile.of([], 0.5) == nil)
    }

    @Test func movingMedianEqualsTheMedianOfEachNeighbourhood() {
        var generator = SplitMix64(seed: 11)
        for (count, half) in [(1, 3), (5, 0), (12, 6), (97, 6), (288, 72)] {
            // Few distinct values, so that ties are common.
            let values = (0..<count).map { _ in Double(generator.next() % 17) }
            let naive = values.indices.map { index in
                Quantile.median(Array(values[max(0, index - half)...min(count - 1, index + half)]))!
            }
            #expect(Quantile.centredMovingMedian(values, half: half) == naive, "count \(count), half \(half)")
        }
        #expect(Quantile.centredMovingMedian([], half: 2).isEmpty)
    }
}
