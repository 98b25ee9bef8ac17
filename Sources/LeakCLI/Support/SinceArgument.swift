/// The `--since` argument: a duration back from now, such as `90m`, `6h`, `2d`, `1w` or `1h30m`.
public struct SinceArgument: Sendable, Equatable {
    public let seconds: Int64
    public let text: String

    private static let unitSeconds: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    public init(parsing text: String) throws {
        let invalid = CLIError.badArguments.with(
            "--since '\(text)' is not a duration: use a number and a unit s, m, h, d or w, such as 30m, 6h, 2d or 1h30m")
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for character in text.lowercased() {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if let unit = Self.unitSeconds[character], let value = Int64(digits) {
                let (product, overflow1) = value.multipliedReportingOverflow(by: unit)
                let (sum, overflow2) = total.addingReportingOverflow(product)
                guard !overflow1, !overflow2, sum <= 3650 * 86_400 else {
                    throw CLIError.badArguments.with("--since '\(text)' is longer than ten years")
                }
                total = sum
                digits = ""
                sawUnit = true
            } else {
                throw invalid
            }
        }
        guard digits.isEmpty, sawUnit, total > 0 else { throw invalid }
        self.seconds = total
        self.text = text
    }

    /// The start of the window in unix nanoseconds.
    public func startUnixNanos(now: Int64) -> Int64 { now - seconds * 1_000_000_000 }
}
