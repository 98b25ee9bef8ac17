/// Conversions that cannot trap, for readers of stored values (the collector's queries,
/// `collector-cli` rendering): a stored row may hold anything its column type allows, and
/// `Int64(someDouble)` traps on NaN, ±inf and beyond ±2^63 (issue 15: one stored value made
/// `report --host` trap for good). Validation keeps new values small; these keep old ones harmless.
public enum Saturating {
    /// `value` rounded to the nearest integer, clamped to Int64's range; NaN is 0.
    public static func int64(_ value: Double) -> Int64 {
        guard !value.isNaN else { return 0 }
        // 2^63 is exactly representable; every Double below it converts without trapping.
        if value >= 9_223_372_036_854_775_808.0 { return .max }
        if value <= -9_223_372_036_854_775_808.0 { return .min }
        return Int64(value.rounded())
    }

    /// As `int64`, for Int.
    public static func int(_ value: Double) -> Int { Int(truncatingIfNeeded: int64(value)) }

    /// Unix milliseconds (as stored) to unix nanoseconds (as on the wire), clamped.
    public static func nanos(milliseconds: Int64) -> Int64 {
        let (product, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? (milliseconds < 0 ? .min : .max) : product
    }

    /// `a - b` in seconds, as a Double: no overflow whatever the two times.
    public static func seconds(from b: Int64, to a: Int64, unitsPerSecond: Double = 1e9) -> Double {
        (Double(a) - Double(b)) / unitsPerSecond
    }

    /// `a - b`, clamped to Int64's range.
    public static func difference(_ a: Int64, _ b: Int64) -> Int64 {
        let (result, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (a < b ? .min : .max) : result
    }
}
