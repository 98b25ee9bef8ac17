/// ANSI styling that is a no-op unless colour is on (a terminal, and NO_COLOR unset).
/// Styled text keeps its visible width, so callers pad before styling.
public struct TextStyle: Sendable {
    public let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    public func bold(_ text: String) -> String { wrap(text, "1") }
    public func dim(_ text: String) -> String { wrap(text, "2") }
    public func red(_ text: String) -> String { wrap(text, "1;31") }
    public func yellow(_ text: String) -> String { wrap(text, "33") }
    public func green(_ text: String) -> String { wrap(text, "32") }
    public func cyan(_ text: String) -> String { wrap(text, "36") }

    /// A verdict's status word in its colour: red for a suspected leak, yellow for growth.
    public func status(_ status: HostStatus, _ text: String) -> String {
        switch status {
        case .suspectedLeak: red(text)
        case .growing: yellow(text)
        case .ok: green(text)
        case .notEnoughData: dim(text)
        }
    }
}
