import FaultInjection
import Foundation
import Prober
import Testing

/// The README's console examples run as shown, and their shown lines compared with the real output: the README
/// cannot drift from the program. Markers and the transcript syntax: ``ConsoleExample``.
struct READMEDocTests {
    static let readme = ProberTestSupport.repository + "/README.md"

    static var examples: [ConsoleExample] {
        (try? ConsoleExample.parse(String(contentsOfFile: readme, encoding: .utf8))) ?? []
    }

    @Test("every console block of the README has a doc-test marker, and some run")
    func markers() throws {
        let examples = try ConsoleExample.parse(try String(contentsOfFile: Self.readme, encoding: .utf8))
        #expect(examples.filter { $0.mode == .offline }.count >= 3)
        for example in examples {
            #expect(!example.commands.isEmpty, "\(example): no command")
            if case .notTested(let reason) = example.mode { print("not doc-tested: \(example): \(reason)") }
        }
    }

    @Test("each example runs and prints the lines the README shows", arguments: examples.filter { $0.mode.runs })
    func example(_ example: ConsoleExample) async throws {
        switch example.mode {
        case .notTested:
            Issue.record("\(example) is not doc-tested")
        case .live:
            let missing = Self.binariesNamed(in: example).filter { !FileManager.default.isExecutableFile(atPath: $0) }
            if !missing.isEmpty {
                // CI installs every QEMU the README names (scripts/install-deps.sh): there a missing one fails.
                if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("\(example): \(missing) not installed") }
                print("note: \(example) not run: \(missing.joined(separator: ", ")) not installed")
                return
            }
        case .offline:
            break
        }
        let outputs = try await Self.run(example)
        try #require(outputs.count == example.commands.count, "\(example): \(outputs.count) outputs for \(example.commands.count) commands")
        for (command, output) in zip(example.commands, outputs) {
            let lines = output.components(separatedBy: "\n")
            if let missing = OutputPattern.firstMissing(command.output, in: lines) {
                Issue.record("README.md:\(example.line): `\(command.text)` does not print '\(missing)'; it printed:\n\(output)")
            }
        }
    }

    /// The QEMU binaries a live example starts: the `--qemu` paths it names, else the host's default.
    static func binariesNamed(in example: ConsoleExample) -> [String] {
        var binaries: [String] = []
        for command in example.commands {
            let words = command.text.components(separatedBy: .whitespaces)
            if let index = words.firstIndex(of: "--qemu"), index + 1 < words.count {
                binaries.append(words[index + 1].trimmingCharacters(in: CharacterSet(charactersIn: ";")))
            } else if words.contains("qemu-compare") || words.contains("qemu-baseline") {
                binaries.append("/usr/bin/qemu-system-s390x")
            }
        }
        return Array(Set(binaries)).sorted()
    }

    /// Runs the example's commands in one bash, in a scratch directory where `recorded-sessions` is the repository's,
    /// with the built `qmp-probe` first on PATH and a private cache, one at a time and at the lowest priority (as the
    /// command-line rows); returns each command's output (stdout and stderr, as a console shows them).
    static func run(_ example: ConsoleExample) async throws -> [String] {
        let scratch = try Subprocess.makeTemporaryDirectory(prefix: "qmp-doc-")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createSymbolicLink(atPath: scratch + "/recorded-sessions",
                                                   withDestinationPath: ProberTestSupport.repository + "/recorded-sessions")
        let marker = "@@doc-test-command-end@@"
        // After each command the marker is printed and the command's exit status kept (for a following `echo $?`).
        var script = "exec 2>&1\nmark() { local status=$?; printf '\\n%s\\n' '\(marker)'; return $status; }\n"
        for command in example.commands { script += command.text + "\nmark\n" }
        var parts = try await runIn(scratch, script: script).components(separatedBy: "\n" + marker + "\n")
        if parts.last?.isEmpty == true { parts.removeLast() }
        return parts
    }

    private static func runIn(_ directory: String, script: String) async throws -> String {
        let outcome = try await ConcurrencyLimit.commandLine.run {
            try await Subprocess.run("/usr/bin/nice", ["-n", "19", "/bin/bash", "-c", #"cd "$0" && eval "$1""#, directory, script], environment: [
                "PATH": BuiltProducts.directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                "XDG_CACHE_HOME": directory + "/cache",
            ], timeout: .seconds(300))
        }
        try #require(!outcome.timedOut, "\(outcome)")
        return outcome.stdout
    }
}
