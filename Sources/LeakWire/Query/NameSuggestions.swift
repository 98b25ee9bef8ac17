/// "Did you mean": the known names closest to a mistyped one, by edit distance. One ranking for the
/// collector, which names them in its unknown-host answers, and the cli, which suggests them.
public enum NameSuggestions {
    /// Levenshtein distance (insertions, deletions, substitutions each cost 1), case-insensitive.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Up to `limit` names within a distance that grows with the name's length (at least 2,
    /// a third of the length beyond that), nearest first, ties by name. Names that contain the
    /// query (or that it contains) count as distance 1.
    public static func nearest(to name: String, among candidates: [String], limit: Int = 3) -> [String] {
        let threshold = max(2, name.count / 3)
        let lowered = name.lowercased()
        let scored = Set(candidates).compactMap { candidate -> (String, Int)? in
            guard candidate != name else { return nil }
            var distance = editDistance(name, candidate)
            let other = candidate.lowercased()
            if !lowered.isEmpty && (other.contains(lowered) || lowered.contains(other)) { distance = min(distance, 1) }
            return distance <= threshold ? (candidate, distance) : nil
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(limit).map(\.0)
    }
}
