import Foundation

/// One invocation of the built `qmp-probe` and what it must give: a row of a table-driven command-line test.
///
/// The command runs in a directory of the caller's choosing (the repository, so that relative paths read as in the
/// README), with `{TMP}` in its arguments replaced by a private scratch directory.
public struct CommandLineCase: Sendable, CustomStringConvertible {
    /// The arguments after `qmp-probe`.
    public var arguments: [String]
    /// The exit status.
    public var status: Int32
    /// Lines that must be on stdout, as ``OutputPattern``s: runs of consecutive lines, `...` lines between runs.
    public var stdout: [String]
    /// Lines that must be on stderr, likewise.
    public var stderr: [String]
    /// Files the command writes (`{TMP}/NAME`) and lines each must hold, likewise.
    public var files: [String: [String]]

    /// A row.
    public init(_ arguments: [String], exit status: Int32, stdout: [String] = [], stderr: [String] = [],
                files: [String: [String]] = [:]) {
        self.arguments = arguments
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.files = files
    }

    /// `qmp-probe` and the arguments.
    public var description: String { (["qmp-probe"] + arguments).joined(separator: " ") }

    /// The outcome of a run and what in it differs from the row (empty when it matches).
    public struct Result: Sendable {
        /// The child's outcome.
        public var outcome: Subprocess.Outcome
        /// Each difference from the row, in words.
        public var failures: [String]
        /// The scratch directory (`{TMP}`), removed by the caller.
        public var scratch: String
    }

    /// Runs the row with `executable` in `directory`, one row at a time (``ConcurrencyLimit/commandLine``) and at the
    /// lowest priority (`nice -n 19`): the tests running meanwhile in the test process keep the CPU they need.
    public func run(_ executable: String, in directory: String, environment: [String: String?] = [:],
                    timeout: Duration = .seconds(300)) async throws -> Result {
        let scratch = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-")
        let arguments = self.arguments.map { $0.replacingOccurrences(of: "{TMP}", with: scratch) }
        // sh changes to the directory, then becomes qmp-probe (exec): the status and signals are qmp-probe's own.
        let outcome = try await ConcurrencyLimit.commandLine.run {
            try await Subprocess.run("/usr/bin/nice", ["-n", "19", "/bin/sh", "-c", #"cd "$0" && exec "$@""#, directory, executable] + arguments,
                                     environment: environment, timeout: timeout)
        }
        var failures: [String] = []
        if outcome.exitStatus != status {
            failures.append("exit status \(outcome.exitStatus.map(String.init) ?? "none (signal \(outcome.signal ?? 0))"), expected \(status)")
        }
        func check(_ expected: [String], in text: String, _ name: String) {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if let missing = OutputPattern.firstMissing(expected.map(OutputPattern.init), in: lines) {
                failures.append("\(name) lacks the line '\(missing)'")
            }
        }
        check(stdout, in: outcome.stdout, "stdout")
        check(stderr, in: outcome.stderr, "stderr")
        for (name, expected) in files.sorted(by: { $0.key < $1.key }) {
            guard let text = try? String(contentsOfFile: scratch + "/" + name, encoding: .utf8) else {
                failures.append("\(name) was not written")
                continue
            }
            check(expected, in: text, name)
        }
        return Result(outcome: outcome, failures: failures, scratch: scratch)
    }
}
