import FaultInjection
import Foundation
import QMP
import Testing

/// The command line as the README shows it, run offline over `recorded-sessions/` and `../shared/corpus/libvirt`:
/// one row per invocation, with its exit status and hand-checked lines (read in the recordings: model counts and
/// `unavailable-features` from `query-cpu-definitions`, added features from the static expansions of `max`).
/// `cpu` has its rows in ``CPUCommandLineTests``; what needs a live QEMU is in `LiveCommandLineTests`.
struct CommandLineTests {
    static let tcg72 = "recorded-sessions/qemu-7.2-x86_64-tcg.jsonl"
    static let kvm72 = "recorded-sessions/qemu-7.2-x86_64-kvm.jsonl"
    static let tcg10 = "recorded-sessions/qemu-10.0-x86_64-tcg.jsonl"
    static let kvm10 = "recorded-sessions/qemu-10.0-x86_64-kvm.jsonl"
    static let host72 = "qemu-7.2=\(kvm72),\(tcg72)"
    static let host10 = "qemu-10.0=\(kvm10),\(tcg10)"
    static let caps42 = "../shared/corpus/libvirt/caps_4.2.0.x86_64.replies"
    static let header72 = "QEMU 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"

    /// `probe --json` of QEMU 7.2 under TCG, written once per run by the command line itself (`--against` reads it).
    static let tcg72Result = (NSTemporaryDirectory() as NSString).appendingPathComponent("qmp-cli-\(getpid())-qemu-7.2-tcg.json")

    static let probeRows: [CommandLineCase] = [
        CommandLineCase(["probe", "--replay", tcg72], exit: 0, stdout: [
            "\(header72), x86_64, /usr/bin/qemu-system-x86_64 [replay \(tcg72)]",
            "",
            "== tcg: 132 models, 38 usable, 94 not usable",
            "host model: max -> base (static expansion), 75 migratable features",
            "...",
            "phenom                     NOT usable  = phenom-v1; dropped: fxsr-opt",
            "...",
            "Haswell                    NOT usable  = Haswell-v1; dropped: hle invpcid pcid rtm tsc-deadline x2apic*",
        ]),
        CommandLineCase(["probe", "--replay", kvm72], exit: 0, stdout: [
            "== kvm: 132 models, 11 usable, 121 not usable",
            "host model: host -> base (static expansion), 61 migratable features, not migratable: invtsc",
            "...",
            "qemu64                     NOT usable  = qemu64-v1; dropped: pni",
            "...",
            "486                        usable      = 486-v1",
        ]),
        CommandLineCase(["probe", "--replay", "recorded-sessions/qemu-7.2-s390x-tcg.jsonl"], exit: 0, stdout: [
            "== tcg: 78 models, 10 usable, 68 not usable",
            "host model: max -> gen15a-base (static expansion), sets 17 features on, 30 off",
            "...",
            "z14           NOT usable  dropped: asnlxr bpb cmm cmpsceh csske cte dateh2 dfp dfphp dfppc dfpzc edat ...",
        ]),
        CommandLineCase(["probe", "--replay", "recorded-sessions/qemu-7.2-aarch64-tcg.jsonl", "--verbose"], exit: 0, stdout: [
            "== tcg: 42 models, 0 usable, 0 not usable, 42 unknown",
            "host model: max -> max (full expansion), sets 20 features on, 1 off",
            "...",
            "a64fx        unknown     enabled: aarch64 pmu sve sve128 sve256 sve512",
            "...",
            "note: QEMU does not report unavailable-features on aarch64: which models are usable is unknown",
        ]),
        // libvirt's recording: 113 models, 71 without unavailable-features under KVM, 36 under TCG.
        CommandLineCase(["probe", "--replay", caps42], exit: 0, stdout: [
            "QEMU 4.2.0 (v4.2.0), x86_64 [replay \(caps42)]",
            "",
            "== kvm: 113 models, 71 usable, 42 not usable",
            "host model: host -> base (static expansion), 159 migratable features, not migratable: invtsc",
            "...",
            "== tcg: 113 models, 36 usable, 77 not usable",
            "...",
            "note: per-model expansions are not in the recording: added/enabled features are unknown",
        ]),
        // Strict mode over libvirt's conversation: the probe's first commands are not libvirt's second one
        // (query-version, at line 12), so KVM's part fails command by command, named in notes.
        CommandLineCase(["probe", "--replay", caps42, "--replay-mode", "strict"], exit: 0, stdout: [
            "== kvm: 0 models, 0 usable, 0 not usable",
            "...",
            #"note: query-cpu-definitions: 'query-cpu-definitions' is not in the recording: \#(caps42):12: expected {"execute":"query-version"}, got {"execute":"query-cpu-definitions"}"#,
        ]),
        // --against: a probe --json result, a recording, both recordings of a host, a libvirt .replies file.
        CommandLineCase(["probe", "--replay", tcg10, "--against", tcg72Result], exit: 0, stdout: [
            "host model: max -> base (static expansion), 87 migratable features",
            "against tcg in QEMU 7.2.22 (\(tcg72Result)), every model gets: +",
            "max                        usable      added: 3dnowprefetch cmp-legacy cmpccxadd fsrc fsrm fsrs fzrm rdpid rdseed sha-ni wbnoinvd x2apic* xsaveerptr; removed: pcommit",
        ]),
        CommandLineCase(["probe", "--replay", kvm10, "--against", kvm72], exit: 0, stdout: [
            "against kvm in QEMU 7.2.22 (\(kvm72)), every model gets: +",
            "max                        usable      added: amd-psfd erms fsrm gds-no kvm-asyncpf-vmexit lfence-always-serializing overflow-recov rfds-no succor",
        ]),
        CommandLineCase(["probe", "--replay", kvm10, "--against", "old=\(kvm72),\(tcg72)"], exit: 0, stdout: [
            "against kvm in QEMU 7.2.22 (\(kvm72), \(tcg72)), every model gets: +",
        ]),
        CommandLineCase(["probe", "--replay", kvm10, "--against", caps42], exit: 0, stdout: [
            "note: against kvm in QEMU 4.2.0 (\(caps42)): no model expanded in both, so no added/removed",
        ]),
        CommandLineCase(["probe", "--replay", kvm10, "--against", tcg72Result], exit: 0, stdout: [
            "note: --against \(tcg72Result) has no kvm result: no added/removed",
        ]),
        CommandLineCase(["probe", "--replay", kvm10, "--against", "/nonexistent.json"], exit: 2, stderr: [
            "qmp-probe: /nonexistent.json: cannot be read (No such file or directory)",
        ]),
        CommandLineCase(["probe", "--replay", "/nonexistent.jsonl"], exit: 2, stderr: [
            "qmp-probe: bad recording: /nonexistent.jsonl: cannot be read (No such file or directory)",
        ]),
        CommandLineCase(["probe", "--replay", tcg72, "--replay-mode", "random"], exit: 2, stderr: [
            "Error: --replay-mode must be matching or strict",
        ]),
        CommandLineCase(["probe", "--accel", "hvf"], exit: 2, stderr: ["Error: --accel must be kvm, tcg or all"]),
    ]

    /// Every row of text output: probe, compare, baseline, and the errors before any QEMU is asked.
    @Test("the invocations: exit status and hand-checked lines", arguments: probeRows + compareRows + baselineRows + offlineErrorRows)
    func rows(_ row: CommandLineCase) async throws {
        if row.arguments.contains(Self.tcg72Result) { try await ResultFiles.shared.make(Self.tcg72Result, ["probe", "--replay", Self.tcg72, "--json"]) }
        try await CommandLineTestSupport.check(row)
    }

    static let compareRows: [CommandLineCase] = [
        CommandLineCase(["compare", host10, host72, "--accel", "tcg"], exit: 1, stdout: [
            "SRC: qemu-10.0 (QEMU 10.0.2, x86_64; \(kvm10), \(tcg10))",
            "DST: qemu-7.2 (QEMU 7.2.22, x86_64; \(kvm72), \(tcg72))",
            "...",
            "== tcg: 154 models, 45 compatible, 109 blocked (22 missing on DST)",
            "...",
            // QEMU 7.2 has no YongFeng (8.1 added it); 7.2's TCG cannot give x2apic (its unavailable-features for Haswell).
            "YongFeng                   BLOCKED     model missing on DST",
            "...",
            "Haswell                    BLOCKED     DST's host lacks: x2apic*",
            "...",
            "result: BLOCKED (see above)",
        ]),
        CommandLineCase(["compare", host72, host10, "--accel", "tcg", "--cpu", "Haswell"], exit: 0, stdout: [
            "Haswell  compatible  filtered on SRC: hle invpcid pcid rtm tsc-deadline x2apic",
        ]),
        CommandLineCase(["compare", host10, host72, "--accel", "kvm", "--cpu", "Haswell"], exit: 1, stdout: [
            "== kvm: 1 model, 0 compatible, 1 blocked",
            "Haswell  BLOCKED     DST's host lacks: erms; SRC's QEMU added: kvm-asyncpf kvm-nopiodelay kvm-pv-eoi kvm-steal-time kvmclock kvmclock-stable-bit vme; filtered on SRC: abm aes ...",
        ]),
        CommandLineCase(["compare", host10, host72, "--accel", "tcg", "--cpu", "Haswell", "--html", "{TMP}/compare.html"], exit: 1,
                        files: ["compare.html": [
                            "...<title>qmp-probe compare: qemu-10.0 → qemu-7.2</title>...",
                            "...",
                            #"<tr><th class="model">Haswell</th><td class="blocked" title="Haswell: blocked on qemu-7.2">DST&#39;s host lacks: x2apic</td></tr>"#,
                        ]]),
        CommandLineCase(["compare", host10, host72, "--cpu", "Haswell", "--domain", "/dev/null"], exit: 2, stderr: [
            "qmp-probe: give at most one of --cpu and --domain",
        ]),
        CommandLineCase(["compare", host10, host72, "--accel", "hvf"], exit: 2, stderr: [
            "qmp-probe: --accel must be kvm, tcg or all, not 'hvf'",
        ]),
        CommandLineCase(["compare", host10, "/nonexistent.json"], exit: 2, stderr: [
            "qmp-probe: /nonexistent.json: cannot be read (No such file or directory)",
        ]),
    ]

    @Test("compare --domain: the <cpu> of a libvirt domain XML (x2apic disabled, Haswell runs on 7.2's TCG)")
    func compareDomain() async throws {
        let xml = """
            <domain type='kvm'>
              <name>guest</name>
              <cpu mode='custom' match='exact'>
                <model fallback='forbid'>Haswell</model>
                <feature policy='disable' name='x2apic'/>
              </cpu>
            </domain>
            """
        try await CommandLineTestSupport.withFile("guest.xml", contents: xml) { domain in
            try await CommandLineTestSupport.check(CommandLineCase(["compare", Self.host10, Self.host72, "--accel", "tcg", "--domain", domain], exit: 0, stdout: [
                "cpu: Haswell,-x2apic",
                "",
                "== tcg: 1 model, 1 compatible, 0 blocked",
                "Haswell  compatible  filtered on SRC: hle invpcid pcid rtm tsc-deadline",
                "...",
                "result: compatible (everything asked for)",
            ]))
            try await CommandLineTestSupport.check(CommandLineCase(["compare", Self.host10, Self.host72, "--domain", domain + ".missing"],
                                                                   exit: 2, stderr: ["qmp-probe: \(domain).missing: cannot be read"]))
        }
    }

    static let baselineRows: [CommandLineCase] = [
        // The usable-as-is rule (kept as an option): Westmere, usable on both hosts as it is, plus switches.
        CommandLineCase(["baseline", host10, host72, "--accel", "tcg", "--rule", "usable-as-is"], exit: 0, stdout: [
            "2 hosts:",
            "  qemu-10.0: QEMU 10.0.2, x86_64",
            "  qemu-7.2: QEMU 7.2.22, x86_64",
            "",
            "== tcg: 154 models, 38 usable on every host",
            "usable on every host: max base qemu64-v1 qemu64 qemu32-v1 qemu32 pentium3-v1 pentium3 pentium2-v1 pentium2 ...",
            "...",
            "  Haswell                    blocked on 2/2: hle invpcid pcid rtm tsc-deadline (qemu-10.0); hle invpcid pcid rtm tsc-deadline x2apic (qemu-7.2)",
            "...",
            "baseline -cpu: Westmere,+3dnow,+3dnowext,+abm,+acpi,+adx,+avx,+avx2,+bmi1,+bmi2,+clflushopt,+clwb,...,+xsaveopt",
            "baseline libvirt:",
            "<cpu mode='custom' match='exact'>",
            "  <model fallback='forbid'>Westmere</model>",
            "  <feature policy='require' name='3dnow'/>",
        ]),
        CommandLineCase(["baseline", host10, host72, "--accel", "tcg", "--model", "Haswell", "--html", "{TMP}/fleet.html"], exit: 1, stdout: [
            "  Haswell  blocked on 2/2: hle invpcid pcid rtm tsc-deadline (qemu-10.0); hle invpcid pcid rtm tsc-deadline x2apic (qemu-7.2)",
        ], files: ["fleet.html": [
            "...<title>qmp-probe baseline: 2 hosts</title>...",
            "...",
            #"<tr><th class="model">Haswell</th><td class="blocked" title="Haswell blocked">hle invpcid pcid rtm tsc-deadline</td><td class="blocked" title="Haswell blocked">hle invpcid pcid rtm tsc-deadline x2apic</td></tr>"#,
        ]]),
        CommandLineCase(["baseline", "/nonexistent-fleet"], exit: 2, stderr: [
            "qmp-probe: /nonexistent-fleet: cannot be read (No such file or directory)",
        ]),
    ]

    static let jsonRows: [JSONCommandCase] = [
        JSONCommandCase(arguments: ["probe", "--replay", kvm10, "--against", kvm72, "--json"], status: 0, schema: "probe-report", fields: [
            ("qemu/version", #""10.0.2""#),
            ("accelerators/kvm/reference", #""kvm in QEMU 7.2.22 (recorded-sessions/qemu-7.2-x86_64-kvm.jsonl)""#),
            ("accelerators/kvm/models/name=max/added",
             #"["amd-psfd","erms","fsrm","gds-no","kvm-asyncpf-vmexit","lfence-always-serializing","overflow-recov","rfds-no","succor"]"#),
            ("accelerators/kvm/models/name=qemu64/blockers", #"["pni"]"#),
        ]),
        JSONCommandCase(arguments: ["probe", "--replay", kvm10, "--against", caps42, "--json"], status: 0, schema: "probe-report", fields: [
            ("accelerators/kvm/reference", #""kvm in QEMU 4.2.0 (../shared/corpus/libvirt/caps_4.2.0.x86_64.replies)""#),
            ("accelerators/kvm/models/name=max/added", "null"),
        ]),
        JSONCommandCase(arguments: ["compare", host10, host72, "--accel", "kvm", "--cpu", "Haswell", "--json"], status: 1,
                        schema: "compare-report", fields: [
            ("compatible", "false"),
            ("cpu", #""Haswell""#),
            ("src/label", #""qemu-10.0""#),
            ("accelerators/kvm/src_reference", #""tcg in the same QEMU""#),
            ("accelerators/kvm/models/model=Haswell/compatible", "false"),
        ]),
        // libvirt's rule (the default): both hosts' TCG `max` says AuthenticAMD, so an AMD model, phenom (hand-checked:
        // 35 shared features added, 1 disabled); the usable-as-is rule keeps Westmere, usable on both as it is.
        JSONCommandCase(arguments: ["baseline", host10, host72, "--accel", "tcg", "--json"], status: 0, schema: "baseline-report", fields: [
            ("satisfied", "true"),
            ("models_asked", "null"),
            ("accelerators/tcg/host_count", "2"),
            ("accelerators/tcg/baseline/model", #""phenom""#),
        ]),
        JSONCommandCase(arguments: ["baseline", host10, host72, "--accel", "tcg", "--rule", "usable-as-is", "--json"], status: 0,
                        schema: "baseline-report", fields: [
            ("accelerators/tcg/baseline/model", #""Westmere""#),
        ]),
    ]

    @Test("--json: the schema and hand-checked fields", arguments: jsonRows)
    func json(_ row: JSONCommandCase) async throws {
        try await row.check()
    }

    @Test("convert: a libvirt .replies file becomes two recordings that replay as the .replies do")
    func convert() async throws {
        try CommandLineTestSupport.requireLibvirtCorpus()
        let directory = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // 55 commands in the file: KVM's 50, then TCG's 5 (qmp_capabilities, query-cpu-definitions, two expansions,
        // query-machines).
        try await CommandLineTestSupport.check(CommandLineCase(["convert", Self.caps42, directory + "/caps.jsonl"], exit: 0, stdout: [
            "\(directory)/caps-kvm.jsonl: 50 commands, QEMU 4.2.0, kvm",
            "\(directory)/caps-tcg.jsonl: 5 commands, QEMU 4.2.0, tcg",
        ]))
        let original = try await CommandLineTestSupport.check(CommandLineCase(["probe", "--replay", Self.caps42], exit: 0))
        let converted = try await CommandLineTestSupport.check(CommandLineCase(["probe", "--replay", directory + "/caps-kvm.jsonl"], exit: 0))
        // The same KVM section, but for its reference: the .replies holds TCG's session too, the KVM file alone does not.
        func kvmSection(_ text: String) -> [String] {
            text.components(separatedBy: "\n== tcg")[0].components(separatedBy: "\n== kvm")[1].components(separatedBy: "\n")
                .filter { !$0.hasPrefix("added/removed: ") }
        }
        #expect(kvmSection(converted.stdout) == kvmSection(original.stdout))
        #expect(original.stdout.contains("\nadded/removed: against tcg in the same QEMU\n"))
        #expect(converted.stdout.contains("\nadded/removed: no reference: no TCG session of this QEMU was probed or recorded"))
        // One of our recordings: one session, 162 commands sent.
        try await CommandLineTestSupport.check(CommandLineCase(["convert", Self.tcg72, directory + "/one.jsonl"], exit: 0, stdout: [
            "\(directory)/one.jsonl: 162 commands, QEMU 7.2.22, tcg",
        ]))
        try await CommandLineTestSupport.check(CommandLineCase(["convert", "/nonexistent.replies", directory + "/x.jsonl"], exit: 2, stderr: [
            "qmp-probe: bad recording: /nonexistent.replies: cannot be read (No such file or directory)",
        ]))
    }

    /// Usage errors and errors before any QEMU is asked (exit status 2), and --help (0).
    static let offlineErrorRows: [CommandLineCase] = [
        CommandLineCase(["exec", "--socket", "/nonexistent/qmp.sock", "query-version"], exit: 2, stderr: [
            "qmp-probe: cannot connect: unix:/nonexistent/qmp.sock: No such file or directory",
        ]),
        CommandLineCase(["qemu-compare", "--socket", "/nonexistent/qmp.sock", "z13", "z14"], exit: 2, stderr: [
            "qmp-probe: cannot connect: unix:/nonexistent/qmp.sock: No such file or directory",
        ]),
        CommandLineCase(["qemu-baseline", "z13"], exit: 2, stderr: ["Error: Missing expected argument '<model-b>'"]),
        CommandLineCase(["no-such-command"], exit: 2, stderr: ["Error: Unexpected argument 'no-such-command'"]),
        CommandLineCase(["--help"], exit: 0, stdout: ["OVERVIEW: A QMP client and CPU-expansion prober for QEMU."]),
    ]
}

/// Result files the rows read, each written once per run by the command line itself.
actor ResultFiles {
    static let shared = ResultFiles()
    private var made: [String: Task<Void, any Error>] = [:]

    /// Writes the stdout of `qmp-probe ARGUMENTS` (which must exit 0) to `path`, once.
    func make(_ path: String, _ arguments: [String]) async throws {
        let task = made[path] ?? Task {
            let outcome = try await CommandLineTestSupport.check(CommandLineCase(arguments, exit: 0))
            try outcome.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        }
        made[path] = task
        try await task.value
    }
}
