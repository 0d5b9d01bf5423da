import Foundation

/// A child process for command-line tests: started with `posix_spawn` (default signal dispositions, an empty
/// signal mask), stdout and stderr going to files (no pipe can fill up), reaped by a thread of its own blocked in
/// `wait4`, so that its exit status, the moment it ended and its peak memory (`ru_maxrss`) are known exactly even
/// when the test's own tasks run late. A child still running at its deadline is killed.
public final class Subprocess: @unchecked Sendable {
    /// The outcome of a finished child.
    public struct Outcome: Sendable, CustomStringConvertible {
        /// The exit status, or nil when a signal ended it.
        public var exitStatus: Int32?
        /// The signal that ended it, if one did.
        public var signal: Int32?
        /// What it wrote on stdout.
        public var stdout: String
        /// What it wrote on stderr.
        public var stderr: String
        /// Its peak resident memory in KiB (`ru_maxrss`). Linux counts in it the memory of the process that spawned
        /// it (`posix_spawn` shares that memory until `exec`): measure from a small process (``IsolatedTest``).
        public var maxRSSKiB: Int
        /// Whether the deadline passed and the test had to kill it.
        public var timedOut: Bool
        /// When it ended (when `wait4` returned).
        public var ended: ContinuousClock.Instant

        /// The status, the memory and both outputs, for test failure messages.
        public var description: String {
            "exit \(exitStatus.map(String.init) ?? "-") signal \(signal.map(String.init) ?? "-")"
                + (timedOut ? " (killed at the deadline)" : "") + ", max RSS \(maxRSSKiB) KiB\nstderr: \(stderr)\nstdout: \(stdout.prefix(4000))"
        }
    }

    /// The child's process id.
    public let pid: pid_t
    /// When it was started.
    public let started: ContinuousClock.Instant
    private let outputDirectory: String
    private let state = NSLock()
    private var outcome: Outcome?
    private var killedAtDeadline = false

    /// Starts `executable` with `arguments`; `environment` entries are added to (nil values removed from) ours.
    public init(_ executable: String, _ arguments: [String], environment: [String: String?] = [:]) throws {
        outputDirectory = try Self.makeTemporaryDirectory()
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputDirectory + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, outputDirectory + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        started = ContinuousClock.now
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw FaultError("posix_spawn \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
        let thread = Thread { [self] in reap() }
        thread.stackSize = 256 << 10
        thread.start()
    }

    deinit {
        try? FileManager.default.removeItem(atPath: outputDirectory)
    }

    /// Blocks in `wait4` until the child ends, then keeps its outcome.
    private func reap() {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0, errno == EINTR {}
        let ended = ContinuousClock.now
        let signal = status & 0x7F
        let read = { (name: String) in (try? String(contentsOfFile: self.outputDirectory + "/" + name, encoding: .utf8)) ?? "" }
        let stdout = read("stdout")
        let stderr = read("stderr")
        state.withLock {
            outcome = Outcome(exitStatus: signal == 0 ? (status >> 8) & 0xFF : nil, signal: signal == 0 ? nil : signal,
                              stdout: stdout, stderr: stderr, maxRSSKiB: usage.ru_maxrss, timedOut: killedAtDeadline,
                              ended: ended)
        }
    }

    /// What the child wrote on stderr so far.
    public var stderrSoFar: String { (try? String(contentsOfFile: outputDirectory + "/stderr", encoding: .utf8)) ?? "" }

    /// Sends `signal` to the child (unless it has already been reaped).
    public func send(_ signal: Int32) {
        state.withLock { if outcome == nil { kill(pid, signal) } }
    }

    /// Waits for the child to end; at `timeout` it is killed (SIGKILL) and the outcome says so.
    public func wait(timeout: Duration) async -> Outcome {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let outcome = poll() { return outcome }
            if ContinuousClock.now >= deadline {
                state.withLock {
                    if outcome == nil, !killedAtDeadline {
                        killedAtDeadline = true
                        kill(pid, SIGKILL)
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The outcome when the child has ended, else nil.
    public func poll() -> Outcome? { state.withLock { outcome } }

    /// Runs `executable` to its end (killed after `timeout`).
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String?] = [:],
                           timeout: Duration = .seconds(120)) async throws -> Outcome {
        try await Subprocess(executable, arguments, environment: environment).wait(timeout: timeout)
    }

    /// A fresh private temporary directory (0700).
    public static func makeTemporaryDirectory(prefix: String = "qmp-fault-") throws -> String {
        let parent = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
        var template = Array("\(parent)/\(prefix)XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FaultError("mkdtemp: \(String(cString: strerror(errno)))") }
        return String(cString: made)
    }
}

/// Where the built executables are: next to the test bundle (`swift build --build-tests` builds them all).
public enum BuiltProducts {
    /// The directory of the running test binary.
    public static var directory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if url.lastPathComponent == "MacOS" || url.lastPathComponent == "Contents" {
            while url.pathExtension != "xctest", url.path != "/" { url.deleteLastPathComponent() }
            url.deleteLastPathComponent()
        }
        return url.path
    }

    /// The built `qmp-probe`, or nil when it is not there.
    public static var qmpProbe: String? {
        let path = directory + "/qmp-probe"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
