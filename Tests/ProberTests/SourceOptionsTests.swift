import FaultInjection
import Foundation
import Testing

/// The source options every command that talks to QEMU shares (`SourceOptions`: `--qemu`, `--socket`, `--connect`,
/// `--replay`, `--replay-mode`, `--timeout`), offline: one default timeout, the options each command refuses (exit
/// status 2 with the reason), a monitor that is not there, and the new `--replay` of `exec`, `qemu-compare` and
/// `qemu-baseline` over `recorded-sessions/` (the outputs are QEMU's recorded replies, as the README shows them live).
/// `--connect` against a running QEMU is in `LiveCommandLineTests/connect`.
struct SourceOptionsTests {
    /// The commands that talk to QEMU, with arguments that make a complete command line.
    static let commands: [[String]] = [["probe"], ["cpu", "qemu64"], ["exec", "query-version"],
                                       ["qemu-compare", "z13", "z14"], ["qemu-baseline", "z13", "z14"]]
    static let comparisons = "recorded-sessions/comparisons"
    static let tcg72 = "recorded-sessions/qemu-7.2-x86_64-tcg.jsonl"
    static let missing = "/nonexistent/qmp.sock"

    /// `--help` of each: the shared options, and one default timeout.
    static let helpRows: [CommandLineCase] = commands.map { command in
        CommandLineCase([command[0], "--help"], exit: 0, stdout: [
            "...--qemu <qemu>...",
            "...",
            "...--socket <socket>...",
            "...",
            "...--connect <connect>...Talk to a running monitor instead of starting QEMU:",
            "...HOST:PORT, or a Unix socket (unix:PATH, or a path",
            "...",
            "...--replay <replay>...",
            "...",
            "...--timeout <timeout>...",
            "...",
            "...this). (default: 30.0)",
        ])
    }

    /// Refused before any QEMU is asked: the usage error (exit status 2) names the option and why.
    static let refusedRows: [CommandLineCase] = commands.flatMap { command in [
        CommandLineCase(command + ["--timeout", "0"], exit: 2, stderr: ["Error: --timeout must be positive"]),
        CommandLineCase(command + ["--socket", missing, "--connect", "localhost:4444"], exit: 2, stderr: [
            "Error: give at most one of --socket, --connect, --replay",
        ]),
        CommandLineCase(command + ["--connect", "nohost"], exit: 2, stderr: [
            "Error: --connect expects HOST:PORT or a Unix socket (unix:PATH, or a path with a '/'), got 'nohost'",
        ]),
        CommandLineCase(command + ["--replay", tcg72, "--replay-mode", "random"], exit: 2, stderr: [
            "Error: --replay-mode must be matching or strict",
        ]),
    ] } + [
        // --qemu was ignored by probe and cpu beside a monitor; now it is refused everywhere.
        CommandLineCase(["probe", "--qemu", "/usr/bin/qemu-system-x86_64", "--socket", missing], exit: 2, stderr: [
            "Error: --qemu starts QEMU: it does not go with --socket",
        ]),
        CommandLineCase(["cpu", "qemu64", "--qemu", "/usr/bin/qemu-system-x86_64", "--replay", tcg72], exit: 2, stderr: [
            "Error: --qemu starts QEMU: it does not go with --replay",
        ]),
        CommandLineCase(["exec", "--qemu", "/usr/bin/qemu-system-x86_64", "query-version"], exit: 2, stderr: [
            "Error: exec does not take --qemu: it asks a running monitor (--socket, --connect) or a recording (--replay)",
        ]),
        CommandLineCase(["exec", "query-version"], exit: 2, stderr: ["Error: give one of --socket PATH, --connect HOST:PORT or --replay FILE"]),
        CommandLineCase(["cpu", "qemu64", "--live", "--connect", missing], exit: 2, stderr: [
            "Error: cpu --live does not take --connect: it starts QEMU itself (a paused guest per machine type)",
        ]),
        CommandLineCase(["cpu", "qemu64", "--record", "{TMP}/cpu.jsonl", "--replay", tcg72], exit: 2, stderr: [
            "Error: cpu --record does not take --replay: it records a QEMU that qmp-probe starts itself",
        ]),
        CommandLineCase(["cpu", "qemu64", "--to", "/usr/bin/qemu-system-x86_64", "--socket", missing], exit: 2, stderr: [
            "Error: cpu --to/--from does not take --socket: they realize the guest, starting QEMU itself",
        ]),
        CommandLineCase(["qemu-compare", "z13", "z14", "--connect", "localhost:4444", "--accel", "tcg"], exit: 2, stderr: [
            "Error: --accel chooses the accelerator of the QEMU started here: it does not go with --socket, --connect or --replay",
        ]),
    ]

    /// A monitor that is not there, by `--socket` and by `--connect` (a path, and `unix:PATH`): QEMU is not started,
    /// the connection error is the message (exit status 2).
    static let unreachableRows: [CommandLineCase] = commands.flatMap { command in
        ["--socket", "--connect", "--connect unix:"].map { option in
            let words = option.split(separator: " ").map(String.init)
            return CommandLineCase(command + [words[0], (words.count > 1 ? words[1] : "") + missing], exit: 2, stderr: [
                "qmp-probe: cannot connect: unix:\(missing): No such file or directory",
            ])
        }
    }

    /// `--replay` where it is new: QEMU's recorded answers (those of the README's live examples), and a command the
    /// recording does not hold.
    static let replayRows: [CommandLineCase] = [
        CommandLineCase(["qemu-compare", "z13", "z14", "--replay", "\(comparisons)/qemu-7.2-s390x-compare-z13-z14.jsonl"], exit: 0, stdout: [
            "z13 is a subset of z14",
            "meaning: a guest of z13 runs where z14 is offered; not necessarily the other way",
            "responsible properties: mepoch vxeh vxpd gs iep tsi sema minste2 eec opc mepochptff msa8 msa7 msa6 type",
        ]),
        CommandLineCase(["qemu-baseline", "z13", "z14", "--replay", "\(comparisons)/qemu-7.2-s390x-baseline-z13-z14.jsonl", "--replay-mode", "strict"],
                        exit: 0, stdout: ["baseline of z13 and z14: z13-base,aen=on,aefsi=on,msa5=on,..."]),
        CommandLineCase(["qemu-compare", "max", "cortex-a57", "--replay", "\(comparisons)/qemu-7.2-aarch64-compare-max-cortex-a57.jsonl"], exit: 2, stderr: [
            "qmp-probe: QEMU for aarch64 has no query-cpu-model-comparison: QEMU implements it for s390x only (e.g. --qemu qemu-system-s390x)",
        ]),
        CommandLineCase(["qemu-compare", "z13", "z15", "--replay", "\(comparisons)/qemu-7.2-s390x-compare-z13-z14.jsonl"], exit: 2, stderr: [
            #"qmp-probe: 'query-cpu-model-comparison' is not in the recording: \#(comparisons)/qemu-7.2-s390x-compare-z13-z14.jsonl has no {"execute":"query-cpu-model-comparison","arguments":{"modela":{"name":"z13"},"modelb":{"name":"z15"}}}"#,
        ]),
        CommandLineCase(["exec", "--replay", tcg72, "query-target"], exit: 0, stdout: [#"{"arch":"x86_64"}"#]),
        CommandLineCase(["exec", "--replay", tcg72, "query-version"], exit: 2, stderr: [
            #"qmp-probe: 'query-version' is not in the recording: \#(tcg72) has no {"execute":"query-version"}"#,
        ]),
        CommandLineCase(["exec", "--replay", "/nonexistent.jsonl", "query-version"], exit: 2, stderr: [
            "qmp-probe: bad recording: /nonexistent.jsonl: cannot be read (No such file or directory)",
        ]),
        // cpu takes --replay-mode (strict would depend on the order of the check's concurrent expansions).
        CommandLineCase(["cpu", "Haswell-noTSX", "--replay", CPUCommandLineTests.tcg, "--accel", "tcg", "--replay-mode", "matching"], exit: 1, stdout: [
            "QEMU 7.2.22 x86_64, tcg: Haswell-noTSX",
            "...",
            "dropped (4):",
        ]),
    ]

    @Test("the source options: the same help and default on every command, what each refuses, an absent monitor, --replay",
          arguments: helpRows + refusedRows + unreachableRows + replayRows)
    func rows(_ row: CommandLineCase) async throws {
        try await CommandLineTestSupport.check(row)
    }
}
