import Foundation

/// Looks at processes through `/proc`: children, liveness, memory.
public enum ProcessInspection {
    /// The children of `pid` (every thread's `/proc/PID/task/TID/children`).
    public static func children(of pid: pid_t) -> [pid_t] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var result: Set<pid_t> = []
        for task in tasks {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            for word in text.split(separator: " ") { if let child = pid_t(word) { result.insert(child) } }
        }
        return result.sorted()
    }

    /// The state letter of `pid` from `/proc/PID/stat` (`R`, `S`, `T`, `Z`, ...), or nil when it does not exist.
    public static func state(of pid: pid_t) -> Character? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].first { $0 != " " }
    }

    /// Whether every thread of `pid` is stopped (state `T` or `t`): `kill(SIGSTOP)` returns before the threads have
    /// stopped, and a thread still running can answer meanwhile.
    public static func isStopped(_ pid: pid_t) -> Bool {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return !tasks.isEmpty && tasks.allSatisfy { task in
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let close = text.lastIndex(of: ")") else { return true }  // a thread that ended meanwhile
            let state = text[text.index(after: close)...].first { $0 != " " }
            return state == "T" || state == "t"
        }
    }

    /// Sends SIGSTOP to `pid` and waits (up to `timeout`) until every one of its threads has stopped; false if not.
    public static func stop(_ pid: pid_t, timeout: Duration = .seconds(5)) async -> Bool {
        kill(pid, SIGSTOP)
        return await poll(timeout: timeout, every: .milliseconds(1)) { isStopped(pid) ? true : nil } ?? false
    }

    /// The command line of `pid`, or nil when it does not exist.
    public static func commandLine(of pid: pid_t) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether `pid` is gone: no such process, or a zombie (dead, waiting to be reaped by its parent or init).
    public static func isGone(_ pid: pid_t) -> Bool {
        guard let state = state(of: pid) else { return true }
        return state == "Z" || state == "X"
    }

    /// Polls until every pid is gone or `timeout` passes; returns those still alive.
    public static func waitGone(_ pids: [pid_t], timeout: Duration) async -> [pid_t] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let alive = pids.filter { !isGone($0) }
            if alive.isEmpty || ContinuousClock.now >= deadline { return alive }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Polls until `condition` returns a value or `timeout` passes.
    public static func poll<T>(timeout: Duration, every interval: Duration = .milliseconds(5),
                               _ condition: () -> T?) async -> T? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let value = condition() { return value }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: interval)
        }
    }

    /// This process's resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM` of `/proc/self/status`).
    public static func memoryKiB() -> (rss: Int, peak: Int) {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
                return Int(line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
            }
            return 0
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}

/// Runs one test alone in a fresh copy of the test binary, for what the other tests would disturb: memory (they run
/// in parallel in this process) and promptness (they can keep Swift's few cooperative threads busy for seconds).
///
/// The test calls ``run(_:filter:timeout:here:)`` with its body: in the parent the call starts the child (the same
/// test binary, `--filter` selecting this test, ``variable`` set to its name) and returns the child's outcome; in the
/// child it runs the body and returns nil.
public enum IsolatedTest {
    /// The environment variable naming the test a child runs.
    public static let variable = "QMP_FAULT_ISOLATED_TEST"

    /// Whether this process is the child started to run the test `name`.
    public static func isChild(_ name: String) -> Bool {
        ProcessInfo.processInfo.environment[variable] == name
    }

    /// In the child for `name`: runs `body`, returns nil. Elsewhere: runs the Swift Testing test matching `filter` (a
    /// regular expression over test ids such as `QMPTests.FaultTests/hugeLine()`) in a child, echoes what the child
    /// printed (lines starting with a letter or digit) and returns its outcome.
    public static func run(_ name: String, filter: String, timeout: Duration = .seconds(180),
                           here body: () async throws -> Void) async throws -> Subprocess.Outcome? {
        if isChild(name) {
            try await body()
            return nil
        }
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let outcome = try await Subprocess.run(binary, ["--testing-library", "swift-testing", "--filter", filter],
                                               environment: [variable: name], timeout: timeout)
        for line in outcome.stdout.split(separator: "\n") where line.first.map({ $0.isASCII && ($0.isLetter || $0.isNumber) }) == true {
            print("[\(name), alone] \(line)")
        }
        return outcome
    }

    /// Whether the child ran exactly one test and it passed.
    public static func passed(_ outcome: Subprocess.Outcome) -> Bool {
        // Swift Testing reports on stderr when it is not a terminal, on stdout otherwise.
        let report = outcome.stderr + outcome.stdout
        return outcome.exitStatus == 0 && report.contains("Test run with 1 test") && report.contains("passed")
    }

    /// The value printed by the child as `NAME=VALUE` on a line of its output.
    public static func figure(_ name: String, in output: String) -> Int? {
        for line in output.split(separator: "\n") {
            if let range = line.range(of: name + "=") {
                return Int(line[range.upperBound...].prefix { $0.isNumber })
            }
        }
        return nil
    }
}

/// Watches a process from a thread of its own, so that what it sees and does is on time even when the tests' tasks
/// run late: every millisecond it records the process's children and calls `check` with them, until `check` says it
/// acted (the moment is kept), the process is gone, or `timeout` passes.
public final class ProcessWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: Set<pid_t> = []
    private var actedAt: ContinuousClock.Instant?
    private var done = false

    /// Starts watching `pid`; `check` gets its current children and returns true once it has acted.
    public init(pid: pid_t, timeout: Duration, check: @escaping @Sendable ([pid_t]) -> Bool) {
        let deadline = ContinuousClock.now + timeout
        let thread = Thread { [self] in
            defer { lock.withLock { done = true } }
            while ContinuousClock.now < deadline, !ProcessInspection.isGone(pid) {
                let children = ProcessInspection.children(of: pid)
                lock.withLock { seen.formUnion(children) }
                if check(children) {
                    let now = ContinuousClock.now
                    lock.withLock { actedAt = now }
                    return
                }
                usleep(1000)
            }
        }
        thread.stackSize = 256 << 10
        thread.start()
    }

    /// Every child seen so far.
    public var children: Set<pid_t> { lock.withLock { seen } }

    /// When `check` acted, if it did.
    public var acted: ContinuousClock.Instant? { lock.withLock { actedAt } }

    /// Waits until the watching thread has stopped.
    public func finished() async {
        while !lock.withLock({ done }) { try? await Task.sleep(for: .milliseconds(2)) }
    }
}
