import JSONEscaping

/// A minimal JSON writer for the agent's reports, so the agent needs no Foundation.
enum JSONText {
    static func quoted(_ value: String) -> String { JSONEscaping.quoted(value) }

    /// An object from ordered key/value pairs whose values are already JSON.
    static func object(_ fields: [(String, String?)]) -> String {
        "{" + fields.compactMap { key, value in value.map { quoted(key) + ": " + $0 } }.joined(separator: ", ") + "}"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
}
