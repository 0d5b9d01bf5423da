import FaultInjection
import Foundation
import Testing

/// `qmp-probe cpu` offline, over the guest-CPU recordings of QEMU 7.2 (Haswell-noTSX under KVM and under TCG): its
/// exit statuses 1 and 2, the readable view, `--xml` and `--json`. Exit status 0 needs a spec the recordings do not
/// hold (`LiveCommandLineTests/cpuExact`). The lines are read by hand against the recordings: Haswell-noTSX's
/// `unavailable-features` are 24 features under KVM on this host and invpcid, pcid, tsc-deadline, x2apic under TCG.
struct CPUCommandLineTests {
    static let kvm = "recorded-sessions/cpu-7.2-x86_64-kvm-haswell-notsx.jsonl"
    static let tcg = "recorded-sessions/cpu-7.2-x86_64-tcg-haswell-notsx.jsonl"

    static let rows: [CommandLineCase] = [
        CommandLineCase(["cpu", "Haswell-noTSX", "--replay", kvm, "--accel", "kvm"], exit: 1, stdout: [
            "QEMU 7.2.22 x86_64, kvm: Haswell-noTSX",
            "(predicted from expansions; --live starts a paused guest to verify)",
            "",
            "added by QEMU (7):",
            "  +kvm-asyncpf  [accelerator-default: kvm sets kvm-asyncpf=on]",
            "...",
            "  +x2apic  [accelerator-default: kvm sets x2apic=on]",
            "dropped (24):",
            "  -abm  [host-filtering: in QEMU's unavailable-features]",
            "...",
            "original:",
            "<cpu mode='custom' match='exact' check='partial'>",
            "  <model fallback='forbid'>Haswell-noTSX</model>",
            "</cpu>",
            "...",
            "-cpu Haswell-noTSX,-abm,-aes,-avx,-avx2,-bmi1,-bmi2,-erms,-f16c,-fma,-fsgsbase,-invpcid,+kvm-asyncpf,+kvm-nopiodelay,+kvm-pv-eoi,+kvm-steal-time,+kvmclock,+kvmclock-stable-bit,-movbe,-pcid,-pclmulqdq,-pni,-popcnt,-rdrand,-rdtscp,-smep,-sse4.1,-sse4.2,-ssse3,+x2apic,-xsave,-xsaveopt",
        ]),
        // --xml: the updated <cpu> alone, in libvirt's spelling (pclmuldq), KVM's paravirtual features in a comment.
        CommandLineCase(["cpu", "Haswell-noTSX", "--replay", kvm, "--accel", "kvm", "--xml"], exit: 1, stdout: [
            "<cpu mode='custom' match='exact' check='full'>",
            "  <model fallback='forbid'>Haswell-noTSX</model>",
            "  <feature policy='disable' name='abm'/>",
            "...",
            "  <feature policy='disable' name='pclmuldq'/>",
            "...",
            "  <feature policy='require' name='x2apic'/>",
            "  <feature policy='disable' name='xsave'/>",
            "  <feature policy='disable' name='xsaveopt'/>",
            "  <!-- set by QEMU, configured under <features> in libvirt: kvm-asyncpf=on kvm-nopiodelay=on kvm-pv-eoi=on kvm-steal-time=on kvmclock=on kvmclock-stable-bit=on -->",
            "</cpu>",
        ]),
        CommandLineCase(["cpu", "Haswell-noTSX", "--replay", tcg, "--accel", "tcg"], exit: 1, stdout: [
            "QEMU 7.2.22 x86_64, tcg: Haswell-noTSX",
            "...",
            "added by QEMU (0):",
            "  none",
            "dropped (4):",
            "  -invpcid  [host-filtering: in QEMU's unavailable-features]",
            "  -pcid  [host-filtering: in QEMU's unavailable-features]",
            "  -tsc-deadline  [host-filtering: in QEMU's unavailable-features]",
            "  -x2apic  [host-filtering: in QEMU's unavailable-features]",
        ]),
        CommandLineCase(["cpu", "NoSuchModel", "--replay", tcg, "--accel", "tcg"], exit: 2, stderr: [
            "qmp-probe: unknown CPU model 'NoSuchModel'",
        ]),
        // A spec whose expansion the recording does not hold: the replay says so, it never invents an answer.
        CommandLineCase(["cpu", "Haswell-noTSX,-x2apic", "--replay", tcg, "--accel", "tcg"], exit: 2, stderr: [
            "qmp-probe: 'query-cpu-model-expansion' is not in the recording: \(tcg) has no ...",
        ]),
        CommandLineCase(["cpu", "--replay", tcg], exit: 2, stderr: ["Error: give SPEC or --domain FILE (one of them)"]),
        CommandLineCase(["cpu", "Haswell-noTSX", "--replay", tcg, "--xml", "--json"], exit: 2, stderr: [
            "Error: give at most one of --xml and --json",
        ]),
    ]

    @Test("cpu: exit statuses 1 and 2, the readable view and --xml", arguments: rows)
    func cpu(_ row: CommandLineCase) async throws {
        try await CommandLineTestSupport.check(row)
    }

    @Test("cpu --json and --domain: the schema and hand-checked fields")
    func json() async throws {
        try await JSONCommandCase(arguments: ["cpu", "Haswell-noTSX", "--replay", Self.kvm, "--accel", "kvm", "--json"], status: 1,
                                  schema: "cpu-check", fields: [
            ("accelerator", #""kvm""#),
            ("qemu/version", #""7.2.22""#),
            ("added/0", #"{"feature":"kvm-asyncpf","enabled":true,"cause":"accelerator-default","detail":"kvm sets kvm-asyncpf=on"}"#),
            ("mismatches", "[]"),
        ]).check()
        let xml = """
            <domain type='kvm'>
              <cpu mode='custom' match='exact' check='partial'>
                <model fallback='forbid'>Haswell-noTSX</model>
              </cpu>
            </domain>
            """
        try await CommandLineTestSupport.withFile("guest.xml", contents: xml) { domain in
            try await JSONCommandCase(arguments: ["cpu", "--domain", domain, "--replay", Self.tcg, "--accel", "tcg", "--json"],
                                      status: 1, schema: "cpu-check", fields: [
                ("original/spec", #""Haswell-noTSX""#),
                ("dropped/3/feature", #""x2apic""#),
            ]).check()
        }
    }
}
