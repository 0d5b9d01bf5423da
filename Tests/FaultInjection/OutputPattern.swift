import Foundation

/// A line of expected command output as the README and the command-line tests write it: the text itself, where
/// `...` stands for any text (possibly none); trailing spaces, and spaces next to `...`, do not count.
public struct OutputPattern: Sendable, CustomStringConvertible {
    /// The line as written.
    public let text: String
    private let parts: [Substring]

    /// The pattern of `text`.
    public init(_ text: String) {
        self.text = text
        // Spaces next to `...` do not count: `a b ...` also matches `a b` at the end of a line.
        let pieces = Self.trimmed(text).components(separatedBy: "...")
        parts = pieces.indices.map { index in
            var piece = Substring(pieces[index])
            if index > 0 { piece = piece.drop { $0 == " " } }
            if index < pieces.count - 1 { while piece.last == " " { piece = piece.dropLast() } }
            return piece
        }
    }

    /// Whether `line` is what the pattern says: its pieces between `...` in order, the first at the start and the last
    /// at the end.
    public func matches(_ line: some StringProtocol) -> Bool {
        var rest = Substring(Self.trimmed(String(line)))
        guard parts.count > 1 else { return rest == parts[0] }
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }

    /// Whether this is a line of `...` alone: any number of lines (possibly none) in a transcript.
    public var isElision: Bool { Self.trimmed(text).trimmingCharacters(in: .whitespaces) == "..." }

    /// The text.
    public var description: String { text }

    private static func trimmed(_ text: String) -> String {
        var text = text
        while text.last == " " || text.last == "\t" || text.last == "\r" { text.removeLast() }
        return text
    }

    /// Where `patterns` are found in `lines`: runs of consecutive lines separated by `...` lines, each run after the
    /// previous one; the output may go on before the first run and after the last. Returns nil when they are all
    /// found, else the first pattern not found (in its place).
    public static func firstMissing(_ patterns: [OutputPattern], in lines: [String]) -> OutputPattern? {
        var runs: [[OutputPattern]] = [[]]
        for pattern in patterns {
            if pattern.isElision { runs.append([]) } else { runs[runs.count - 1].append(pattern) }
        }
        var start = 0
        for run in runs where !run.isEmpty {
            guard let found = (start..<max(start, lines.count - run.count + 1)).first(where: { index in
                zip(run, lines[index...]).allSatisfy { $0.matches($1) }
            }) else {
                // Name the first line of the run that is missing after the longest matching prefix anywhere.
                let longest = (start..<lines.count).map { index in
                    zip(run, lines[index...]).prefix { $0.matches($1) }.count
                }.max() ?? 0
                return run[min(longest, run.count - 1)]
            }
            start = found + run.count
        }
        return nil
    }
}
