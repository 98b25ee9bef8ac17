/// JSON string literals for the project's two JSON writers, which share nothing else: the agent's
/// exit report (no Foundation in the agent) and collector-cli's `--format json`. One escaper, so
/// the two quote a name the same way.
public enum JSONEscaping {
    /// `text` as a JSON string literal: the quote, the backslash and the control characters
    /// escaped (in JSON's short form where it has one), every other character as it is (JSON
    /// text is UTF-8).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
