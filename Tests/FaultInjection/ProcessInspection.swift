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

/// Runs one test alone in a fresh copy of the test binary, so that its memory can be measured without the other
/// tests, which run in parallel in this process.
///
/// The isolated test is enabled only in the child (``isChild(_:)``); the parent reads its exit status, its output
/// (the figures it prints) and its peak memory from `wait4`.
public enum IsolatedTest {
    /// The environment variable naming the test a child runs.
    public static let variable = "QMP_FAULT_ISOLATED_TEST"

    /// Whether this process is the child started to run the test `name`.
    public static func isChild(_ name: String) -> Bool {
        ProcessInfo.processInfo.environment[variable] == name
    }

    /// Runs the Swift Testing test whose name matches `filter` in a child process with ``variable`` set to `name`.
    public static func run(name: String, filter: String, timeout: Duration = .seconds(180)) async throws -> Subprocess.Outcome {
        let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return try await Subprocess.run(binary, ["--testing-library", "swift-testing", "--filter", filter],
                                        environment: [variable: name], timeout: timeout)
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
