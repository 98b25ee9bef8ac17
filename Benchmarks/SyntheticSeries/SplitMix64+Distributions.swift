import LeakAnalysis
import LeakTestSupport

/// The continuous distributions the synthetic series draw from, through LeakAnalysis's libm
/// wrappers so the series are the same on every platform the statistics run on.
extension SplitMix64 {
    /// Log-uniform between two positive bounds.
    public mutating func logUniform(_ low: Double, _ high: Double) -> Double {
        Math.exp(uniform(Math.log(low), Math.log(high)))
    }

    /// Standard normal by Box–Muller (one value per call; deterministic).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * Math.log(u1)).squareRoot() * Math.cos(2 * Double.pi * u2)
    }
}
