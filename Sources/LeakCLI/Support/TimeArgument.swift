import Foundation

/// A point in time on the command line (`diff --from`, `export --base`): RFC 3339, such as
/// `2026-12-07T09:00:00Z` or `2026-12-07T10:00:00.5+01:00`, or a duration back from now as
/// `--since` takes it (`6h`, `1h30m`).
public struct TimeArgument: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case absolute(unixNanos: Int64)
        case ago(SinceArgument)
    }

    public let value: Value
    public let text: String

    public init(parsing text: String, option: String) throws {
        self.text = text
        if let unixNanos = Self.rfc3339UnixNanos(text) {
            value = .absolute(unixNanos: unixNanos)
            return
        }
        do {
            value = .ago(try SinceArgument(parsing: text))
        } catch {
            throw CLIError.badArguments.with(
                "\(option) '\(text)' is not a time: give RFC 3339 such as 2026-12-07T09:00:00Z, "
                    + "or a duration back from now such as 30m, 6h or 1h30m")
        }
    }

    public func unixNanos(now: Int64) -> Int64 {
        switch value {
        case .absolute(let unixNanos): unixNanos
        case .ago(let since): since.startUnixNanos(now: now)
        }
    }

    private static func rfc3339UnixNanos(_ text: String) -> Int64? {
        guard text.contains("T") || text.contains("t") else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let normalized = text.uppercased()
        guard let date = formatter.date(from: normalized) ?? {
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.date(from: normalized)
        }() else { return nil }
        let nanos = date.timeIntervalSince1970 * 1e9
        return nanos > 0 && nanos < 9.2e18 ? Int64(nanos) : nil
    }
}

/// A time option parsed early, so a bad value is a bad-arguments error before any connection.
func parseTime(_ text: String?, option: String) throws -> TimeArgument? {
    try text.map { try TimeArgument(parsing: $0, option: option) }
}
