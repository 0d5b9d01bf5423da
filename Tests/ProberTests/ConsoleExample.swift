import FaultInjection
import Foundation

/// A ```` ```console ```` block of the README: its doc-test marker, and its commands each with the output shown.
///
/// The convention (documented in the README): the line just before every console block is a marker,
/// `<!-- doc-test: offline -->` (run against the recordings, always), `<!-- doc-test: live -->` (run when the QEMU it
/// names is installed; CI installs them), or `<!-- doc-test: no, REASON -->` (not run, and why). In a block, `$ `
/// starts a command (a line ending in `\` goes on), the lines up to the next command are its output as
/// ``OutputPattern``s (`...` for any text or lines), and an argument `LABEL=...` repeats the block's earlier
/// argument `LABEL=PATHS`.
struct ConsoleExample: Sendable, CustomStringConvertible {
    /// How a block is doc-tested.
    enum Mode: Sendable, Equatable {
        case offline
        case live
        case notTested(reason: String)

        /// Whether the doc-test runs it (offline always, live when its QEMU is installed).
        var runs: Bool { if case .notTested = self { false } else { true } }
    }

    /// One command and the output shown after it.
    struct Command: Sendable {
        /// The command as the shell runs it (continuation lines kept, `LABEL=...` expanded).
        var text: String
        /// The output lines shown.
        var output: [OutputPattern]
    }

    /// The README line of the fence.
    var line: Int
    var mode: Mode
    var commands: [Command]

    var description: String { "README.md:\(line): $ " + (commands.first?.text.split(separator: "\n").first.map(String.init) ?? "") }

    /// Every console block of `markdown`; a block without a valid marker is an error naming its line.
    static func parse(_ markdown: String) throws -> [ConsoleExample] {
        let lines = markdown.components(separatedBy: "\n")
        var examples: [ConsoleExample] = []
        var index = 0
        while index < lines.count {
            guard lines[index] == "```console" else {
                index += 1
                continue
            }
            let fence = index
            let mode = try Self.mode(marker: fence > 0 ? lines[fence - 1] : "", line: fence + 1)
            var body: [String] = []
            index += 1
            while index < lines.count, lines[index] != "```" {
                body.append(lines[index])
                index += 1
            }
            examples.append(ConsoleExample(line: fence + 1, mode: mode, commands: Self.commands(body)))
            index += 1
        }
        return examples
    }

    private static func mode(marker: String, line: Int) throws -> Mode {
        let trimmed = marker.trimmingCharacters(in: .whitespaces)
        switch trimmed {
        case "<!-- doc-test: offline -->": return .offline
        case "<!-- doc-test: live -->": return .live
        default:
            let prefix = "<!-- doc-test: no, "
            if trimmed.hasPrefix(prefix), trimmed.hasSuffix(" -->"), trimmed.count > prefix.count + 5 {
                return .notTested(reason: String(trimmed.dropFirst(prefix.count).dropLast(4)))
            }
            throw ConsoleExampleError("README.md:\(line): a console block needs a doc-test marker on the line before it "
                                      + "(<!-- doc-test: offline -->, <!-- doc-test: live --> or <!-- doc-test: no, REASON -->), found '\(marker)'")
        }
    }

    private static func commands(_ body: [String]) -> [Command] {
        var commands: [Command] = []
        var continuing = false
        var labelled: [String: String] = [:]
        for line in body {
            if continuing, var last = commands.popLast() {
                last.text += "\n" + line
                commands.append(last)
                continuing = line.hasSuffix("\\")
            } else if line.hasPrefix("$ ") {
                commands.append(Command(text: String(line.dropFirst(2)), output: []))
                continuing = line.hasSuffix("\\")
            } else if var last = commands.popLast() {
                last.output.append(OutputPattern(line))
                commands.append(last)
            }
            // A command is complete at its last line: its `LABEL=...` words are expanded then.
            if !continuing, line.hasPrefix("$ ") || commands.last?.text.hasSuffix("\n" + line) == true {
                commands[commands.count - 1].text = Self.expandLabels(commands[commands.count - 1].text, &labelled)
            }
        }
        return commands
    }

    /// Replaces each `LABEL=...` word with the earlier `LABEL=PATHS` word of the block, and remembers new ones.
    private static func expandLabels(_ text: String, _ labelled: inout [String: String]) -> String {
        var words = text.components(separatedBy: " ")
        for (index, word) in words.enumerated() {
            guard let equals = word.firstIndex(of: "="), !word.hasPrefix("-") else { continue }
            let label = String(word[..<equals])
            guard label.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !label.isEmpty else { continue }
            if word[word.index(after: equals)...] == "..." {
                if let full = labelled[label] { words[index] = full }
            } else {
                labelled[label] = word.trimmingCharacters(in: CharacterSet(charactersIn: "\\\n"))
            }
        }
        return words.joined(separator: " ")
    }
}

/// A README console block that cannot be doc-tested as written.
struct ConsoleExampleError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
