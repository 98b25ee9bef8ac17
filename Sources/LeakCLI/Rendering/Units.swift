import Foundation
import LeakWire

/// Human-readable sizes, rates, times and durations for text output. Deterministic: no locale,
/// no time zone but UTC.
public enum Units {
    private static let byteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]

    /// `812 B`, `3.4 KiB`, `512.0 MiB`.
    public static func bytes(_ value: Double) -> String {
        // No stored value is NaN or infinite today, but a renderer must not trap on one.
        guard value.isFinite else { return value.isNaN ? "? B" : (value > 0 ? "∞ B" : "-∞ B") }
        var magnitude = abs(value)
        var unit = 0
        while magnitude >= 1024 && unit < byteUnits.count - 1 {
            magnitude /= 1024
            unit += 1
        }
        let sign = value < 0 ? "-" : ""
        if unit == 0 { return "\(sign)\(Int(magnitude.rounded())) B" }
        return sign + String(format: "%.1f", magnitude) + " " + byteUnits[unit]
    }

    public static func bytes<T: BinaryInteger>(_ value: T) -> String { bytes(Double(value)) }

    /// `+12.3 MiB/h`, `-1.0 KiB/h`, `0 B/h`.
    public static func rate(bytesPerHour: Double) -> String {
        let rounded = bytesPerHour.rounded()
        if rounded == 0 { return "0 B/h" }
        return (rounded > 0 ? "+" : "") + bytes(rounded) + "/h"
    }

    /// `1,234,567`.
    public static func count<T: BinaryInteger>(_ value: T) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// `45s`, `12m`, `5h 20m`, `2d 3h`.
    public static func duration(seconds: Double) -> String {
        let total = Saturating.int64(max(0, seconds))
        let days = total / 86_400, hours = (total % 86_400) / 3600, minutes = (total % 3600) / 60, secs = total % 60
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(secs)s"
    }

    /// UTC calendar fields of a unix-nanosecond time.
    private static func fields(_ unixNanos: Int64) -> (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64) {
        // Floor division, written so that no intermediate overflows at Int64.min.
        let seconds = unixNanos / 1_000_000_000 - (unixNanos % 1_000_000_000 < 0 ? 1 : 0)
        var days = seconds / 86_400 - (seconds % 86_400 < 0 ? 1 : 0)
        let secondOfDay = seconds - days * 86_400
        // Civil from days (Howard Hinnant's algorithm), exact for the proleptic Gregorian calendar.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, secondOfDay / 3600, (secondOfDay % 3600) / 60, secondOfDay % 60)
    }

    private static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// RFC 3339 in UTC with second precision: `2026-11-25T08:10:00Z` (the JSON form).
    public static func rfc3339(unixNanos: Int64) -> String {
        let f = fields(unixNanos)
        return "\(f.year)-\(two(f.month))-\(two(f.day))T\(two(f.hour)):\(two(f.minute)):\(two(f.second))Z"
    }

    /// `2026-11-25 08:10 UTC`.
    public static func minuteTime(unixNanos: Int64) -> String {
        let f = fields(unixNanos)
        return "\(f.year)-\(two(f.month))-\(two(f.day)) \(two(f.hour)):\(two(f.minute)) UTC"
    }

    /// `08:10` (UTC), for chart axes.
    public static func clockTime(unixNanos: Int64) -> String {
        let f = fields(unixNanos)
        return "\(two(f.hour)):\(two(f.minute))"
    }

    /// `11-25 08:10:05` (UTC), for event lists.
    public static func shortTime(unixNanos: Int64) -> String {
        let f = fields(unixNanos)
        return "\(two(f.month))-\(two(f.day)) \(two(f.hour)):\(two(f.minute)):\(two(f.second))"
    }

    /// `5h 20m ago`, or `just now`, or `in 3m` for a clock ahead of ours.
    public static func ago(unixNanos: Int64, now: Int64) -> String {
        let seconds = Saturating.seconds(from: unixNanos, to: now)
        if abs(seconds) < 1 { return "just now" }
        return seconds > 0 ? "\(duration(seconds: seconds)) ago" : "in \(duration(seconds: -seconds))"
    }

    /// Cuts `text` to `width` characters, ending with "…" when cut.
    public static func fit(_ text: String, width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 1 else { return String(text.prefix(max(0, width))) }
        return String(text.prefix(width - 1)) + "…"
    }

    /// Left-aligns `text` in `width` columns.
    public static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Right-aligns `text` in `width` columns.
    public static func padLeft(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
