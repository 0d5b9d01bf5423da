// qmp-bench: measures this package's QMP client against a live QEMU monitor socket.
//
//   qmp-bench --socket PATH --mode sequential|pipelined --count N [--no-timeout] [--oob] [--name LABEL]
//   qmp-bench --socket PATH --mode realized --properties FILE [--name LABEL]
//
// sequential: N `query-version` calls, each awaited before the next.
// pipelined:  N `qom-get {"path":"/machine","property":"type"}` calls launched at once in a
//             task group (the client keeps at most `maxInFlight` = 8 of them on the wire).
//
// realized:   what `qmp-probe cpu --live` does to read a paused guest's CPU (RealizedCPU.read), with the client's
//             default configuration (OOB negotiated): `query-cpus-fast`, `qom-list` of the first CPU, then one
//             `qom-get` per property named in FILE (one per line: the feature properties RealizedCPU selects), all
//             issued at once from a task group, then `qom-get unavailable-features`. N is the number of commands.
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

enum Mode: String { case sequential, pipelined, realized }

func usage(_ message: String? = nil) -> Never {
    if let message { printError("qmp-bench: \(message)\n") }
    printError("usage: qmp-bench --socket PATH --mode sequential|pipelined --count N [--no-timeout] [--oob] [--name LABEL]\n"
        + "       qmp-bench --socket PATH --mode realized --properties FILE [--name LABEL]\n")
    exit(2)
}

/// Writes to standard error without touching the C `stderr` global (not concurrency-safe in Swift 6).
func printError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
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
var propertiesFile: String?

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
    case "--properties":
        guard let value = arguments.popFirst() else { usage("--properties needs a file") }
        propertiesFile = value
    case "--name":
        guard let value = arguments.popFirst() else { usage("--name needs a label") }
        name = value
    case "-h", "--help": usage()
    default: usage("unknown argument '\(argument)'")
    }
}
var properties: [String] = []
if mode == .realized {
    guard let propertiesFile, let file = fopen(propertiesFile, "r") else { usage("--mode realized needs a readable --properties FILE") }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    while getline(&line, &capacity, file) > 0, let line {
        if let property = String(cString: line).split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == " " }).first {
            properties.append(String(property))
        }
    }
    free(line)
    fclose(file)
    count = properties.count + 3
}
guard let socketPath, let mode, let count else { usage("--socket, --mode and --count are required") }

var configuration = QMPClient.Configuration()
configuration.commandTimeout = timeout
// realized: the configuration `qmp-probe cpu --live` uses (the default, OOB negotiated when offered).
configuration.enableOOB = mode == .realized ? QMPClient.Configuration().enableOOB : enableOOB
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
    case .realized:
        // As RealizedCPU.read: the CPU's path, its properties, then every feature at once, then unavailable-features.
        let cpus = try await client.execute("query-cpus-fast")
        guard let path = cpus.arrayValue?.first?["qom-path"]?.stringValue else { throw QMPError.protocolError("no CPU") }
        let listed = try await client.execute("qom-list", arguments: ["path": .string(path)])
        let values = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for property in properties {
                group.addTask {
                    let value = try await client.execute("qom-get", arguments: ["path": .string(path), "property": .string(property)])
                    return (property, value.boolValue ?? false)
                }
            }
            var result: [(String, Bool)] = []
            result.reserveCapacity(properties.count)
            for try await value in group { result.append(value) }
            return result
        }
        guard values.count == properties.count else { throw QMPError.protocolError("missing replies") }
        if listed.arrayValue?.contains(where: { $0["name"]?.stringValue == "unavailable-features" }) == true {
            _ = try await client.execute("qom-get", arguments: ["path": .string(path), "property": "unavailable-features"])
        }
    }
    let end = clock.now
    let cpu = cpuSeconds() - cpuStart
    await client.close()

    let total = (end - start).inSeconds
    let commands = (end - negotiated).inSeconds
    let connect = (negotiated - start).inSeconds
    let rate = Double(count) / total
    print("\(name) \(mode.rawValue) \(count) \(format(total, 4))s \(format(rate, 0))/s "
        + "cmd=\(format(commands, 4))s connect=\(format(connect, 4))s cpu=\(format(cpu, 4))s")
} catch {
    await client.close()
    printError("qmp-bench: \(error)\n")
    exit(1)
}
