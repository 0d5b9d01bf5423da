import FaultInjection
import Foundation
import Glibc
import Prober
import Testing

/// The command line where it needs a live QEMU: `cpu`'s exit status 0, `exec` against a monitor socket (the
/// README's example), `qemu-compare` and `qemu-baseline` (s390x under TCG, and a target without them), and `--connect`
/// (a Unix socket or TCP) on every command that talks to QEMU.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveCommandLineTests {
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Runs `row` with the built `qmp-probe` in the repository with `cache` as `XDG_CACHE_HOME` (by default a private
    /// one for this row), and records every difference.
    @discardableResult
    static func check(_ row: CommandLineCase, cache: String? = nil) async throws -> Subprocess.Outcome {
        let executable = try #require(BuiltProducts.qmpProbe, "qmp-probe is not built next to the tests: run swift build --build-tests")
        let privateCache = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-cache-")
        defer { try? FileManager.default.removeItem(atPath: privateCache) }
        let result = try await row.run(executable, in: Self.repository, environment: ["XDG_CACHE_HOME": cache ?? privateCache])
        defer { try? FileManager.default.removeItem(atPath: result.scratch) }
        for failure in result.failures { Issue.record("\(row): \(failure)\n\(result.outcome)") }
        return result.outcome
    }

    /// What `cpu qemu64 --accel tcg` predicts: exactly what it asks (nothing unavailable, no TCG default).
    static let qemu64Exact = [
        "...: qemu64",
        "(predicted from expansions; --live starts a paused guest to verify)",
        "",
        "added by QEMU (0):",
        "  none",
        "dropped (0):",
        "  none",
    ]

    @Test("cpu: exit status 0 when the guest gets exactly what it asks (qemu64 under TCG: nothing unavailable, no TCG default)")
    func cpuExact() async throws {
        try await Self.check(CommandLineCase(["cpu", "qemu64", "--accel", "tcg"], exit: 0, stdout: Self.qemu64Exact))
    }

    @Test("cpu --live on two machine types under KVM, as in the README: the lines that do not depend on the host CPU",
          .enabled(if: LiveQEMU.accelerators.contains("kvm"), "/dev/kvm is not usable (KVMCoverageTests says whether that may be)"))
    func cpuLive() async throws {
        try await Self.check(CommandLineCase(["cpu", "qemu64", "--live", "--machine", "pc-i440fx-1.7", "--machine", "pc"], exit: 1, stdout: [
            "QEMU ... x86_64, kvm: qemu64",
            "(verified on a paused guest: pc-i440fx-1.7, pc)",
            "",
            "added by QEMU (6):",
            "  +kvm-asyncpf  [accelerator-default: kvm sets kvm-asyncpf=on]",
            "...",
            "  -svm  [accelerator-default: kvm sets svm=off]",
            "prediction vs realized CPU:",
            "  pc-i440fx-1.7: x2apic predicted on, realized off  [machine-type-compat: pc-i440fx-1.7 is 1.7 or older: x2apic=off]",
            "between machine types:",
            "  x2apic: pc-i440fx-1.7=off pc=on",
        ]))
    }

    @Test("probe --against LABEL=A,B: the cached result is keyed by both files, so a changed reference is probed again")
    func againstCacheKey() async throws {
        let directory = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func save(_ recording: String) async throws {
            let result = try await Self.check(CommandLineCase(["probe", "--replay", "recorded-sessions/\(recording)", "--json"], exit: 0))
            try result.stdout.write(toFile: directory + "/tcg.json", atomically: true, encoding: .utf8)
        }
        let against = "old=\(directory)/tcg.json,recorded-sessions/qemu-7.2-x86_64-kvm.jsonl"
        let probe = CommandLineCase(["probe", "--accel", "tcg", "--against", against], exit: 0, stdout: [
            "against tcg in QEMU ... (\(directory)/tcg.json, recorded-sessions/qemu-7.2-x86_64-kvm.jsonl), every model gets: +...",
        ])
        try await save("qemu-7.2-x86_64-tcg.jsonl")
        let first = try await Self.check(probe, cache: directory)
        #expect(try await Self.check(probe, cache: directory).stdout == first.stdout)
        // The same path, now QEMU 10.0's result: max's added/removed change (10.0 has features 7.2 lacks), a cached
        // result would not.
        try await save("qemu-10.0-x86_64-tcg.jsonl")
        let second = try await Self.check(probe, cache: directory)
        let max = { (output: String) in output.split(separator: "\n").first { $0.hasPrefix("max ") }.map(String.init) ?? "" }
        #expect(max(second.stdout) != max(first.stdout), "\(max(first.stdout))")
    }

    @Test("exec against a monitor socket, as in the README: the reply (exit 0), QEMU's refusal (exit 2)")
    func exec() async throws {
        let directory = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/qmp.sock"
        _ = try await LiveQEMU.withInstance(extra: ["-qmp", "unix:\(socket),server=on,wait=off"]) { _ in
            try await Self.check(CommandLineCase(["exec", "--socket", socket, "query-version"], exit: 0, stdout: [
                #"{"qemu":{"micro":...,"minor":...,"major":...},"package":"..."}"#,
            ]))
            try await Self.check(CommandLineCase(["exec", "--socket", socket, "no-such-command"], exit: 2, stderr: [
                "qmp-probe: 'no-such-command' failed: CommandNotFound: The command no-such-command has not been found",
            ]))
            try await Self.check(CommandLineCase(["exec", "--socket", socket, "query-cpu-model-expansion",
                                                  #"{"type":"static","model":{"name":"max"}}"#], exit: 0, stdout: [
                #"{"model":{"name":"base","props":{...}}}"#,
            ]))
            try await Self.check(CommandLineCase(["exec", "--socket", socket, "query-version", "[1]"], exit: 2, stderr: [
                "qmp-probe: the arguments must be a JSON object",
            ]))
        }
    }

    @Test("qemu-compare and qemu-baseline: s390x's verdict and baseline (exit 0), a target without them and an unknown model (exit 2)",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-s390x")
                       && FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-aarch64")
                       || ProcessInfo.processInfo.environment["CI"] != nil,
                   "qemu-system-s390x and qemu-system-aarch64 are not installed"))
    func qemuModelQueries() async throws {
        try await Self.check(CommandLineCase(["qemu-compare", "z13", "z14"], exit: 0, stdout: [
            "z13 is a subset of z14",
            "meaning: a guest of z13 runs where z14 is offered; not necessarily the other way",
            "responsible properties: mepoch vxeh vxpd gs iep tsi sema minste2 eec opc mepochptff msa8 msa7 msa6 type",
        ]))
        try await Self.check(CommandLineCase(["qemu-compare", "z14", "z14", "--json"], exit: 0, stdout: [
            #"{"a":{"name":"z14"},"b":{"name":"z14"},"result":"identical","responsible_properties":[]}"#,
        ]))
        try await Self.check(CommandLineCase(["qemu-baseline", "z13", "z14"], exit: 0, stdout: [
            "baseline of z13 and z14: z13-base,aen=on,aefsi=on,msa5=on,...",
        ]))
        try await Self.check(CommandLineCase(["qemu-compare", "max", "cortex-a57", "--qemu", "/usr/bin/qemu-system-aarch64"], exit: 2, stderr: [
            "qmp-probe: QEMU for aarch64 has no query-cpu-model-comparison: QEMU implements it for s390x only (e.g. --qemu qemu-system-s390x)",
        ]))
        try await Self.check(CommandLineCase(["qemu-baseline", "max", "cortex-a57", "--qemu", "/usr/bin/qemu-system-aarch64"], exit: 2, stderr: [
            "qmp-probe: QEMU for aarch64 has no query-cpu-model-baseline: QEMU implements it for s390x only (e.g. --qemu qemu-system-s390x)",
        ]))
        try await Self.check(CommandLineCase(["qemu-compare", "z13", "nosuch"], exit: 2, stderr: [
            "qmp-probe: QEMU refused query-cpu-model-comparison: GenericError: The CPU definition 'nosuch' is unknown.",
        ]))
    }

    /// What `--connect` must give on each command against a QEMU this test started with monitors at `socket` and at
    /// 127.0.0.1:`port` (`{SOCKET}`, `{PORT}`): the same answers as a QEMU the command starts itself.
    static let connectRows: [CommandLineCase] = [
        CommandLineCase(["probe", "--connect", "{SOCKET}"], exit: 0, stdout: [
            "QEMU ..., x86_64 [monitor unix:{SOCKET}]",
            "",
            "== tcg: ... models, ... usable, ... not usable",
        ]),
        CommandLineCase(["probe", "--connect", "127.0.0.1:{PORT}", "--json"], exit: 0, stdout: [
            #"{"schema":"qmp-probe/probe-report/1",...,"source":"monitor tcp:127.0.0.1:{PORT}","accelerators":{"tcg":...}"#,
        ]),
        CommandLineCase(["cpu", "qemu64", "--connect", "unix:{SOCKET}", "--accel", "tcg"], exit: 0, stdout: qemu64Exact),
        CommandLineCase(["cpu", "NoSuchModel", "--connect", "127.0.0.1:{PORT}", "--accel", "tcg"], exit: 2, stderr: [
            "qmp-probe: unknown CPU model 'NoSuchModel'...",
        ]),
        CommandLineCase(["exec", "--connect", "{SOCKET}", "query-target"], exit: 0, stdout: [#"{"arch":"x86_64"}"#]),
        CommandLineCase(["exec", "--connect", "127.0.0.1:{PORT}", "query-version"], exit: 0, stdout: [
            #"{"qemu":{"micro":...,"minor":...,"major":...},"package":"..."}"#,
        ]),
    ]

    @Test("--connect on every command, to a Unix socket and to TCP: the answers of the QEMU the test started", arguments: connectRows)
    func connect(_ row: CommandLineCase) async throws {
        let directory = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/qmp.sock"
        let port = try Self.freeTCPPort()
        _ = try await LiveQEMU.withInstance(extra: ["-qmp", "unix:\(socket),server=on,wait=off",
                                                "-qmp", "tcp:127.0.0.1:\(port),server=on,wait=off"]) { _ in
            try await Self.check(Self.filled(row, socket: socket, port: port))
        }
    }

    @Test("qemu-compare and qemu-baseline --connect to an s390x QEMU the test started, and --record then --replay of it",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-s390x")
                       || ProcessInfo.processInfo.environment["CI"] != nil, "qemu-system-s390x is not installed"))
    func connectModelQueries() async throws {
        let directory = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/qmp.sock"
        let port = try Self.freeTCPPort()
        let verdict = [
            "z13 is a subset of z14",
            "meaning: a guest of z13 runs where z14 is offered; not necessarily the other way",
            "responsible properties: mepoch vxeh vxpd gs iep tsi sema minste2 eec opc mepochptff msa8 msa7 msa6 type",
        ]
        let instance = try await QEMUInstance.start(
            binary: "/usr/bin/qemu-system-s390x", accelerator: "tcg",
            arguments: QEMUInstance.probeArguments(accelerator: "tcg", extra: [
                "-qmp", "unix:\(socket),server=on,wait=off", "-qmp", "tcp:127.0.0.1:\(port),server=on,wait=off"]),
            configuration: .init())
        try await LiveQEMU.using(instance) { _ in
            for row in [
                CommandLineCase(["qemu-compare", "z13", "z14", "--connect", "{SOCKET}", "--record", "\(directory)/compare.jsonl"], exit: 0, stdout: verdict),
                CommandLineCase(["qemu-baseline", "z13", "z14", "--connect", "127.0.0.1:{PORT}"], exit: 0, stdout: [
                    "baseline of z13 and z14: z13-base,aen=on,aefsi=on,msa5=on,...",
                ]),
                CommandLineCase(["qemu-compare", "z13", "nosuch", "--connect", "unix:{SOCKET}"], exit: 2, stderr: [
                    "qmp-probe: QEMU refused query-cpu-model-comparison: GenericError: The CPU definition 'nosuch' is unknown.",
                ]),
            ] {
                try await Self.check(Self.filled(row, socket: socket, port: port))
            }
        }
        // The recording of the connected session answers as that QEMU did.
        try await Self.check(CommandLineCase(["qemu-compare", "z13", "z14", "--replay", "\(directory)/compare.jsonl", "--replay-mode", "strict"],
                                             exit: 0, stdout: verdict))
    }

    /// `row` with `{SOCKET}` and `{PORT}` replaced in its arguments and expected lines.
    static func filled(_ row: CommandLineCase, socket: String, port: Int) -> CommandLineCase {
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "{SOCKET}", with: socket).replacingOccurrences(of: "{PORT}", with: String(port))
        }
        return CommandLineCase(row.arguments.map(fill), exit: row.status, stdout: row.stdout.map(fill), stderr: row.stderr.map(fill))
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice for a socket bound to port 0).
    static func freeTCPPort() throws -> Int {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
