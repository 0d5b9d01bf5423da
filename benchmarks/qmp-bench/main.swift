// qmp-bench: measures this package's QMP client against a live QEMU monitor socket.
//
//   qmp-bench --socket PATH --mode sequential|pipelined --count N [--no-timeout] [--oob] [--name LABEL]
//
// sequential: N `query-version` calls, each awaited before the next.
// pipelined:  N `qom-get {"path":"/machine","property":"type"}` calls launched at once in a
//             task group (the client keeps at most `maxInFlight` = 8 of them on the wire).
//
// Prints one line:
//   swift-qmp MODE N TOTALs RATE/s cmd=CMDs connect=CONNs cpu=CPUs
// TOTAL is connect + greeting + `qmp_capabilities` + the N commands (what the benchmark
// script compares with the socat floor); CMD is the command phase alone (after negotiation).
// RATE is N / TOTAL; CPU is the process's user + system time over TOTAL (all threads).
// Times come from `ContinuousClock`; process start-up and `close()` are excluded.
//
// The client runs with its default configuration, except `commandTimeout`, raised to 10 minutes
// so a slow machine never times out (each call still arms its timer, as in normal use);
// `--no-timeout` sets it to nil (no per-call timer) to show what the timers cost; `--oob` sets
// `enableOOB` (negotiates QEMU's `oob` capability, as qemu.qmp always does: QEMU then queues up
// to 8 in-band commands instead of one); `--name` changes the first word of the output line.

import QMP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum Mode: String { case sequential, pipelined }

func usage(_ message: String? = nil) -> Never {
    if let message { printError("qmp-bench: \(message)\n") }
    printError("usage: qmp-bench --socket PATH --mode sequential|pipelined --count N [--no-timeout] [--oob] [--name LABEL]\n")
    exit(2)
}

/// Writes to standard error without touching the C `stderr` global (not concurrency-safe in Swift 6).
func printError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// User + system CPU time of the whole process so far, in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func value(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return value(usage.ru_utime) + value(usage.ru_stime)
}

func format(_ value: Double, _ decimals: Int) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = buffer.withUnsafeMutableBufferPointer { pointer in
        withVaList([value]) { vsnprintf(pointer.baseAddress, 64, "%.\(decimals)f", $0) }
    }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

var socketPath: String?
var mode: Mode?
var count: Int?
var timeout: Duration? = .seconds(600)
var enableOOB = false
var name = "swift-qmp"

var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--socket":
        guard let value = arguments.popFirst() else { usage("--socket needs a path") }
        socketPath = value
    case "--mode":
        guard let value = arguments.popFirst(), let parsed = Mode(rawValue: value) else { usage("--mode needs sequential or pipelined") }
        mode = parsed
    case "--count":
        guard let value = arguments.popFirst(), let parsed = Int(value), parsed > 0 else { usage("--count needs a positive integer") }
        count = parsed
    case "--no-timeout": timeout = nil
    case "--oob": enableOOB = true
    case "--name":
        guard let value = arguments.popFirst() else { usage("--name needs a label") }
        name = value
    case "-h", "--help": usage()
    default: usage("unknown argument '\(argument)'")
    }
}
guard let socketPath, let mode, let count else { usage("--socket, --mode and --count are required") }

var configuration = QMPClient.Configuration()
configuration.commandTimeout = timeout
configuration.enableOOB = enableOOB
let client = QMPClient(configuration: configuration)
let clock = ContinuousClock()

do {
    let cpuStart = cpuSeconds()
    let start = clock.now
    try await client.connect(to: .unix(path: socketPath))
    let negotiated = clock.now

    switch mode {
    case .sequential:
        for _ in 0..<count {
            _ = try await client.execute("query-version")
        }
    case .pipelined:
        let arguments: JSONObject = ["path": "/machine", "property": "type"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask { _ = try await client.execute("qom-get", arguments: arguments) }
            }
            try await group.waitForAll()
        }
    }
    let end = clock.now
    let cpu = cpuSeconds() - cpuStart
    await client.close()

    let total = seconds(end - start)
    let commands = seconds(end - negotiated)
    let connect = seconds(negotiated - start)
    let rate = Double(count) / total
    print("\(name) \(mode.rawValue) \(count) \(format(total, 4))s \(format(rate, 0))/s "
        + "cmd=\(format(commands, 4))s connect=\(format(connect, 4))s cpu=\(format(cpu, 4))s")
} catch {
    await client.close()
    printError("qmp-bench: \(error)\n")
    exit(1)
}
