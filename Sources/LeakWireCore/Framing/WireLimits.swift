/// Bounds every decoder enforces before it allocates or inflates anything.
///
/// The defaults fit the largest snapshot an agent sends (a first snapshot after connect
/// carrying every stack, a few hundred KiB inflated) with a wide margin, while keeping a
/// hostile or broken peer from making the receiver allocate more than a few MiB.
public struct WireLimits: Sendable, Hashable {
    /// Largest body length a header may announce (bytes as sent, possibly deflated).
    /// Default 4 MiB.
    public var maximumFrameBodyBytes: Int
    /// Largest body after inflating a DEFLATED frame. Default 16 MiB.
    public var maximumInflatedBodyBytes: Int
    /// Largest inflated/deflated size ratio. zlib reaches about 1000:1 on runs of one byte;
    /// real snapshots deflate 3–20:1. Default 256.
    public var maximumInflateRatio: Int
    /// The ratio is only enforced once the inflated size exceeds this many bytes, so that
    /// tiny bodies (a few bytes of zlib header and trailer) are never refused. Default 64 KiB.
    public var inflateRatioExemptBytes: Int

    public init(
        maximumFrameBodyBytes: Int = 4 << 20,
        maximumInflatedBodyBytes: Int = 16 << 20,
        maximumInflateRatio: Int = 256,
        inflateRatioExemptBytes: Int = 64 << 10
    ) {
        self.maximumFrameBodyBytes = maximumFrameBodyBytes
        self.maximumInflatedBodyBytes = maximumInflatedBodyBytes
        self.maximumInflateRatio = maximumInflateRatio
        self.inflateRatioExemptBytes = inflateRatioExemptBytes
    }

    public static let `default` = WireLimits()

    /// The largest inflated size allowed for a body that is `compressedBytes` long.
    func inflatedLimit(compressedBytes: Int) -> Int {
        let (byRatio, overflow) = compressedBytes.multipliedReportingOverflow(by: maximumInflateRatio)
        let ratioLimit = overflow ? Int.max : max(byRatio, inflateRatioExemptBytes)
        return min(ratioLimit, maximumInflatedBodyBytes)
    }
}
