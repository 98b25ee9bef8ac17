/// Markup in which every interpolated string is escaped: `"<td>\(site.function)</td>" as HTML`
/// cannot open a tag or end an attribute, whatever the function name holds. Host names,
/// functions, paths and messages come from agents, so the HTML output treats them as hostile;
/// only literals and other `HTML` values go in as markup.
///
/// The markup is also well-formed XML (void elements closed, attributes quoted, no named
/// entities but XML's), so a test can parse every page the cli writes.
public struct HTML: Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    public private(set) var markup: String

    public init(stringLiteral literal: String) { markup = literal }

    public init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }

    public var description: String { markup }

    public static let empty: HTML = ""

    /// Fragments one after another.
    public static func joined(_ fragments: [HTML], separator: HTML = .empty) -> HTML {
        var result = HTML.empty
        for (index, fragment) in fragments.enumerated() {
            if index > 0 { result.markup += separator.markup }
            result.markup += fragment.markup
        }
        return result
    }

    public mutating func append(_ fragment: HTML) { markup += fragment.markup }

    public struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { markup += literal }

        /// Text from anywhere: escaped for element content and quoted attribute values alike.
        public mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }

        public mutating func appendInterpolation(_ fragment: HTML) { markup += fragment.markup }

        public mutating func appendInterpolation(_ fragments: [HTML]) {
            for fragment in fragments { markup += fragment.markup }
        }

        public mutating func appendInterpolation<T: BinaryInteger>(_ value: T) { markup += String(value) }

        /// An SVG coordinate or length (`coordinate`).
        public mutating func appendInterpolation(px value: Double) { markup += HTML.coordinate(value) }
    }

    /// An SVG coordinate or length with one decimal. Chromium reports a non-number (`nan`,
    /// `inf`) in an SVG attribute as a console error and drops the shape, so a value no chart
    /// should produce is drawn at 0 instead, and the rest are kept to a range any renderer takes.
    public static func coordinate(_ value: Double) -> String {
        let clamped = value.isFinite ? min(max(value, -1e7), 1e7) : 0
        var text = String((clamped * 10).rounded() / 10)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text == "-0" ? "0" : text
    }

    /// `&`, `<`, `>`, `"` and `'` as character references; characters that neither HTML nor
    /// XML allows in a document (C0 controls but tab and newlines, DEL, C1, U+FFFE, U+FFFF) as
    /// U+FFFD, the replacement character a browser would show.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            case "\u{0}"..."\u{1F}", "\u{7F}"..."\u{9F}", "\u{FFFE}", "\u{FFFF}": result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
