/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator whose output is fixed by its seed
/// on every platform and Swift version, unlike the standard library's random APIs. The one copy
/// for tests, fixtures and the synthetic evaluation series (which adds its distributions).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    public mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// In 0..<count.
    public mutating func index(_ count: Int) -> Int { Int(next() % UInt64(count)) }
}
