/// Exponential backoff with full jitter: the n-th consecutive failure waits a uniformly random
/// time in [0, min(maximum, minimum · 2ⁿ)], so a fleet reconnecting after a collector restart
/// spreads out instead of arriving together.
struct ShipperBackoff {
    let minimumSeconds: Double
    let maximumSeconds: Double
    private(set) var consecutiveFailures = 0
    private var generator = SystemRandomNumberGenerator()

    init(minimumSeconds: Double, maximumSeconds: Double) {
        self.minimumSeconds = max(0.001, minimumSeconds)
        self.maximumSeconds = max(self.minimumSeconds, maximumSeconds)
    }

    /// The ceiling for the next delay.
    var ceilingSeconds: Double {
        min(maximumSeconds, minimumSeconds * Double(1 << min(consecutiveFailures, 30)))
    }

    /// Records a failure and returns how long to wait before the next attempt.
    mutating func nextDelaySeconds() -> Double {
        let delay = Double.random(in: 0...ceilingSeconds, using: &generator)
        consecutiveFailures += 1
        return delay
    }

    mutating func reset() { consecutiveFailures = 0 }
}
