/// Nearest known names for a misspelt one (edit distance), for error messages.
package enum NameSuggestions {
    /// Up to `limit` names from `candidates` closest to `name` (case-insensitive), nearest first.
    package static func nearest(to name: String, in candidates: some Sequence<String>, limit: Int = 3) -> [String] {
        let target = Array(name.lowercased().utf8)
        let scored = candidates.map { candidate -> (Int, String) in
            (distance(target, Array(candidate.lowercased().utf8)), candidate)
        }
        let threshold = max(2, target.count / 2)
        return scored.filter { $0.0 <= threshold }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.prefix(limit).map(\.1)
    }

    /// Levenshtein distance between two byte strings.
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
