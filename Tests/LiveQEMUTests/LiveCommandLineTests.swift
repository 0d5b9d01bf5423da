import FaultInjection
import Foundation
import Prober
import Testing

/// The command line where it needs a live QEMU: `cpu`'s exit status 0, `exec` against a monitor socket (the
/// README's example), `qemu-compare` and `qemu-baseline` (s390x under TCG, and a target without them).
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

    @Test("cpu: exit status 0 when the guest gets exactly what it asks (qemu64 under TCG: nothing unavailable, no TCG default)")
    func cpuExact() async throws {
        try await Self.check(CommandLineCase(["cpu", "qemu64", "--accel", "tcg"], exit: 0, stdout: [
            "...: qemu64",
            "(predicted from expansions; --live starts a paused guest to verify)",
            "",
            "added by QEMU (0):",
            "  none",
            "dropped (0):",
            "  none",
        ]))
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
        try await LiveQEMU.withInstance(extra: ["-qmp", "unix:\(socket),server=on,wait=off"]) { _ in
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
}
