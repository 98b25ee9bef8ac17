/// Substring search over UTF-8 code units, for the ASCII markers frame names are matched against
/// (`__allocating_init`, `/include/c++/`). The standard library's `contains(_:)` and
/// `firstRange(of:)` for strings live in `_StringProcessing`, which the preloaded agent is built
/// without so that a C program does not map it (and the regex parser) for the agent.
extension StringProtocol {
    package func firstRange(ofText text: some StringProtocol) -> Range<String.Index>? {
        let haystack = utf8, needle = text.utf8
        guard let first = needle.first else { return startIndex..<startIndex }
        var from = haystack.startIndex
        while let candidate = haystack[from...].firstIndex(of: first) {
            if haystack[candidate...].starts(with: needle) {
                return candidate..<haystack.index(candidate, offsetBy: needle.count)
            }
            from = haystack.index(after: candidate)
        }
        return nil
    }

    package func containsText(_ text: some StringProtocol) -> Bool { firstRange(ofText: text) != nil }
}
