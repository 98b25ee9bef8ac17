import LeakWire

extension NameSuggestions {
    /// The message for an unknown host: what was asked, the suggestions, what to do next.
    public static func unknownHostMessage(_ host: String, known: [String]) -> String {
        var message = "the collector knows no host named '\(host)'"
        let suggestions = nearest(to: host, among: known)
        if !suggestions.isEmpty {
            message += "; did you mean " + suggestions.map { "'\($0)'" }.joined(separator: ", ") + "?"
        } else if known.isEmpty {
            message += " (no host has reported yet)"
        }
        return message + " Run `collector-cli hosts` to list the hosts it knows."
    }
}
