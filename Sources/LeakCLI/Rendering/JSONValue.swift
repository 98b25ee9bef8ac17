import Foundation
import JSONEscaping

/// A JSON document with keys in a fixed order, printed deterministically: collector-cli's
/// JSON output is an interface (docs/CLI.md), so its bytes must not depend on hashing.
public indirect enum JSONValue: Sendable, Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case integer(Int64)
    case unsigned(UInt64)
    /// Printed with at most `places` decimals, trailing zeros removed.
    case decimal(Double, places: Int)
    case bool(Bool)
    case null

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.rendered() == rhs.rendered() }

    /// `.string` for a nonzero time, else null.
    public static func time(unixNanos: Int64) -> JSONValue {
        unixNanos == 0 ? .null : .string(Units.rfc3339(unixNanos: unixNanos))
    }

    /// Two-space indented, one key per line, a final newline.
    public func rendered() -> String {
        var out = ""
        write(to: &out, indent: 0)
        out.append("\n")
        return out
    }

    private func write(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closingPad = String(repeating: "  ", count: indent)
        switch self {
        case .object(let members):
            if members.isEmpty { out.append("{}"); return }
            out.append("{\n")
            for (index, (key, value)) in members.enumerated() {
                out.append(pad)
                out.append(JSONEscaping.quoted(key))
                out.append(": ")
                value.write(to: &out, indent: indent + 1)
                out.append(index == members.count - 1 ? "\n" : ",\n")
            }
            out.append(closingPad + "}")
        case .array(let elements):
            if elements.isEmpty { out.append("[]"); return }
            out.append("[\n")
            for (index, value) in elements.enumerated() {
                out.append(pad)
                value.write(to: &out, indent: indent + 1)
                out.append(index == elements.count - 1 ? "\n" : ",\n")
            }
            out.append(closingPad + "]")
        case .string(let text): out.append(JSONEscaping.quoted(text))
        case .integer(let value): out.append(String(value))
        case .unsigned(let value): out.append(String(value))
        case .decimal(let value, let places):
            guard value.isFinite else { out.append("null"); return }
            var text = String(format: "%.\(places)f", value)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            if text == "-0" { text = "0" }
            out.append(text)
        case .bool(let value): out.append(value ? "true" : "false")
        case .null: out.append("null")
        }
    }
}
