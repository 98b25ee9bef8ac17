import CLeakTrackAPI

/// How the process allocates: counts and bytes per log-spaced size class, and the most frequent
/// request sizes. Both are estimated from the sampled allocations, exact when the sample interval
/// is 1 byte; the totals in `HeapStats` are always exact.
public struct AllocationPatterns: Sendable, Equatable {
    public struct SizeClass: Sendable, Equatable {
        /// Usable sizes in `lowerBoundBytes...upperBoundBytes`.
        public var lowerBoundBytes: UInt64
        public var upperBoundBytes: UInt64
        public var count: UInt64
        public var bytes: UInt64
    }

    public struct SizeCount: Sendable, Equatable {
        public var size: UInt64
        public var count: UInt64
    }

    public var sizeClasses: [SizeClass]
    /// Most frequent first.
    public var topSizes: [SizeCount]

    public static func read(topSizeLimit: Int = 16) -> AllocationPatterns {
        var classes = [lt_size_class](repeating: lt_size_class(), count: Int(LT_SIZE_CLASS_COUNT))
        let classCount = classes.withUnsafeMutableBufferPointer {
            Int(lt_read_size_classes($0.baseAddress, Int32($0.count)))
        }
        var sizes = [lt_size_count](repeating: lt_size_count(), count: topSizeLimit)
        let sizeCount = sizes.withUnsafeMutableBufferPointer {
            Int(lt_read_top_sizes($0.baseAddress, Int32($0.count)))
        }
        return AllocationPatterns(
            sizeClasses: classes.prefix(classCount).map {
                SizeClass(lowerBoundBytes: $0.lower_bound_bytes, upperBoundBytes: $0.upper_bound_bytes,
                          count: $0.count, bytes: $0.bytes)
            },
            topSizes: sizes.prefix(sizeCount).map { SizeCount(size: $0.size, count: $0.count) }
        )
    }
}
