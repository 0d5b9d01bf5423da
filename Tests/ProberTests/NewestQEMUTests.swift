import Foundation
import Prober
import QMP
import Testing

/// The newest QEMUs' QMP changes, from QEMU's QAPI history, on sessions written by hand: from 10.1 the CPU commands
/// exist on every target and answer with an error where the target does not implement them; 10.2 adds
/// `query-accelerators`; `query-kvm` is deprecated from 11.0. And older targets' real limits.
struct NewestQEMUTests {
    /// A session of QEMU `major.minor` for `arch`, labelled `accelerator`, with these exchanges after the greeting.
    static func session(_ major: Int, _ minor: Int, arch: String, accelerator: String,
                        _ exchanges: [(String, JSON, JSON?)]) -> ReplaySession {
        var header = SessionHeader(arch: arch, accelerator: accelerator)
        let greeting: JSON = ["version": ["qemu": ["micro": 0, "minor": .int(Int64(minor)), "major": .int(Int64(major))],
                                          "package": ""], "capabilities": []]
        header.greeting = greeting
        return ReplaySession(source: "qemu-\(major).\(minor)-\(arch)", header: header, greeting: greeting,
                             exchanges: ([("qmp_capabilities", ["return": [:]], nil)] + exchanges).map { name, reply, arguments in
            var command: JSONObject = ["execute": .string(name)]
            if let arguments { command["arguments"] = arguments }
            return .init(command: .object(command), line: 0, reply: reply)
        })
    }

    /// The probe of `session`, with its report's notes.
    static func probe(_ session: ReplaySession) async throws -> (AcceleratorProbe, [String]) {
        let client = QMPClient()
        try await client.connect(using: ReplayTransport(session: session, mode: .matching))
        let probe = try await ProbeGatherer(client: client, accelerator: session.header.accelerator ?? "tcg").gather()
        await client.close()
        let report = ProbeReport.compute(probes: [probe], source: "test")
        #expect(try await ProberTestSupport.schemaErrors(report.json) == nil)
        return (probe, report.accelerators[0].notes)
    }

    /// A TCG session of a QEMU before 10.1 that has no CPU command for `arch` at all.
    static func withoutCPUCommands(_ major: Int, _ minor: Int, arch: String) -> ReplaySession {
        session(major, minor, arch: arch, accelerator: "tcg", [
            ("query-target", ["return": ["arch": .string(arch)]], nil),
            ("query-kvm", ["return": ["enabled": false, "present": false]], nil),
            ("query-commands", ["return": commands(["query-commands", "query-kvm"])], nil),
            ("query-cpu-definitions", error("The command query-cpu-definitions has not been found", "CommandNotFound"), nil),
        ])
    }

    static func commands(_ names: [String]) -> JSON { .array(names.map { ["name": .string($0)] }) }
    static func error(_ desc: String, _ errorClass: String = "GenericError") -> JSON {
        ["error": ["class": .string(errorClass), "desc": .string(desc)]]
    }
    static let cpuCommands = ["query-cpu-definitions", "query-cpu-model-expansion", "query-cpu-model-comparison",
                              "query-cpu-model-baseline", "query-commands"]

    @Test("10.1 on a target without CPU models: the commands exist and answer with an error; the notes say so, nothing is expanded")
    func commandsOnEveryTarget() async throws {
        let session = Self.session(10, 1, arch: "sparc", accelerator: "tcg", [
            ("query-target", ["return": ["arch": "sparc"]], nil),
            ("query-kvm", ["return": ["enabled": false, "present": false]], nil),
            ("query-commands", ["return": Self.commands(Self.cpuCommands + ["query-kvm"])], nil),
            ("query-cpu-definitions", Self.error("CPU model definitions are not supported on this target"), nil),
        ])
        // No query-cpu-model-expansion is recorded: asking for one would fail the probe with "not recorded" notes.
        let (probe, notes) = try await Self.probe(session)
        #expect(probe.definitions == nil && probe.hostModel == nil && probe.expansions.isEmpty)
        #expect(notes.count == 2, "\(notes)")
        let definitions = try #require(notes.first)
        #expect(definitions.hasPrefix("QEMU 10.1.0 answers query-cpu-definitions on sparc with an error (GenericError: CPU model definitions are not supported on this target): from QEMU 10.1 the command exists on every target, and sparc does not implement it"))
        #expect(definitions.contains("libvirt lists no CPU models for it either"))
        #expect(notes.last?.hasPrefix("QEMU 10.1.0 does not implement query-cpu-model-expansion on sparc (from 10.1 the command exists on every target") == true)
    }

    @Test("before 10.1 the same target has no such command: the note says the command is absent")
    func commandAbsentBefore10_1() async throws {
        let (_, notes) = try await Self.probe(Self.withoutCPUCommands(9, 0, arch: "sparc"))
        #expect(notes.first?.hasPrefix("QEMU 9.0.0 has no query-cpu-definitions for sparc (QEMU implements query-cpu-definitions only for arm, loongarch, mips, ppc, riscv, s390x, x86)") == true, "\(notes)")
        #expect(notes.last == "QEMU 9.0.0 has no query-cpu-model-expansion for sparc (QEMU implements query-cpu-model-expansion only for arm, loongarch, riscv, s390x, x86): the host model and the features of each model cannot be determined before a guest starts")
    }

    @Test("riscv64 and loongarch64 on QEMU 7.2: the notes name what that QEMU lacks on the target, and what libvirt does")
    func oldTargets() async throws {
        let (_, riscvNotes) = try await Self.probe(Self.withoutCPUCommands(7, 2, arch: "riscv64"))
        #expect(riscvNotes == [
            "QEMU 7.2.0 has no query-cpu-definitions for riscv64 (QEMU has it on riscv64 from 8.0): the CPU models cannot be listed; libvirt lists no CPU models for it either: it offers no custom CPU model and no host-model, only host-passthrough (with a hardware accelerator on a host of this architecture) and maximum",
            "QEMU 7.2.0 has no query-cpu-model-expansion for riscv64 (QEMU has it on riscv64 from 8.2): the host model and the features of each model cannot be determined before a guest starts",
        ])
        let loongarch = Self.session(7, 2, arch: "loongarch64", accelerator: "tcg", [
            ("query-target", ["return": ["arch": "loongarch64"]], nil),
            ("query-kvm", ["return": ["enabled": false, "present": false]], nil),
            ("query-commands", ["return": Self.commands(["query-commands", "query-kvm", "query-cpu-definitions"])], nil),
            ("query-cpu-definitions", ["return": [["name": "la464", "typename": "la464-loongarch-cpu", "static": false, "deprecated": false]]], nil),
        ])
        let (probe, notes) = try await Self.probe(loongarch)
        #expect(probe.definitions?.map(\.name) == ["la464"])
        #expect(notes.last == "QEMU 7.2.0 has no query-cpu-model-expansion for loongarch64 (QEMU has it on loongarch64 from 8.2): the host model and the features of each model cannot be determined before a guest starts")
        #expect(!notes.joined().contains("2.9"))
    }

    @Test("10.2: query-accelerators, not query-kvm, tells the accelerator; the session's label agrees")
    func queryAccelerators() async throws {
        for (major, minor) in [(10, 2), (11, 0)] {
            // No query-kvm is recorded: asking it (deprecated from 11.0) would show as a missing recording.
            let session = Self.session(major, minor, arch: "x86_64", accelerator: "kvm", [
                ("query-target", ["return": ["arch": "x86_64"]], nil),
                ("query-accelerators", ["return": ["enabled": "kvm", "present": ["kvm", "qtest", "tcg"]]], nil),
                ("query-commands", ["return": Self.commands(["query-commands", "query-accelerators", "query-cpu-definitions"])], nil),
                ("query-cpu-definitions", ["return": [["name": "qemu64", "typename": "qemu64-x86_64-cpu", "unavailable-features": [], "static": false, "deprecated": false]]], nil),
            ])
            let (probe, notes) = try await Self.probe(session)
            let state = try #require(probe.acceleratorState)
            #expect(state.source == "query-accelerators" && state.enabled == "kvm" && state.present == ["kvm", "qtest", "tcg"])
            #expect(probe.kvm?.isNull == nil, "query-kvm was not asked")
            #expect(notes == ["QEMU \(major).\(minor).0 has no query-cpu-model-expansion for x86_64 (QEMU has it on x86_64 from 2.9): the host model and the features of each model cannot be determined before a guest starts"],
                    "\(notes)")
        }
    }

    @Test("an accelerator present but not enabled: the verdict says what QEMU runs instead")
    func presentButNotEnabled() async throws {
        let newer = Self.session(10, 2, arch: "x86_64", accelerator: "kvm", [
            ("query-target", ["return": ["arch": "x86_64"]], nil),
            ("query-accelerators", ["return": ["enabled": "tcg", "present": ["kvm", "qtest", "tcg"]]], nil),
            ("query-commands", ["return": Self.commands(["query-commands"])], nil),
            ("query-cpu-definitions", ["return": []], nil),
        ])
        let (_, notes) = try await Self.probe(newer)
        #expect(notes.first == "this session was expected to run kvm, but QEMU runs tcg (query-accelerators): kvm is present but not enabled; what follows is tcg's answer")
        let older = Self.session(7, 2, arch: "x86_64", accelerator: "kvm", [
            ("query-target", ["return": ["arch": "x86_64"]], nil),
            ("query-kvm", ["return": ["enabled": false, "present": true]], nil),
            ("query-commands", ["return": Self.commands(["query-commands"])], nil),
            ("query-cpu-definitions", ["return": []], nil),
        ])
        let (olderProbe, olderNotes) = try await Self.probe(older)
        #expect(olderProbe.acceleratorState?.kvmPresent == true && olderProbe.acceleratorState?.kvmEnabled == false)
        #expect(olderNotes.first == "this session was expected to run kvm, but KVM is present and not enabled (query-kvm): QEMU runs another accelerator; what follows is not KVM's answer")
        // A TCG session of a QEMU that has KVM: nothing to say.
        let state = try #require(AcceleratorState(command: "query-kvm", reply: ["enabled": false, "present": true]))
        #expect(state.verdict(expected: "tcg") == nil && state.accelerator == "tcg")
        #expect(AcceleratorState(command: "query-accelerators", reply: ["enabled": "hvf", "present": ["hvf", "tcg"]])?
            .verdict(expected: "hvf") == nil)
    }

    @Test("10.1 on aarch64: query-cpu-model-comparison exists and answers with an error: unsupported, naming the target")
    func comparisonOnEveryTarget() async throws {
        let session = Self.session(10, 1, arch: "aarch64", accelerator: "tcg", [
            ("query-cpu-model-comparison", Self.error("CPU model comparison is not supported on this target"),
             ["modela": ["name": "max"], "modelb": ["name": "cortex-a57"]]),
            ("query-target", ["return": ["arch": "aarch64"]], nil),
        ])
        let client = QMPClient()
        try await client.connect(using: ReplayTransport(session: session, mode: .matching))
        let error = await #expect(throws: QEMUModelQueryError.self) {
            try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "max"), b: CPUModelInfo(name: "cortex-a57"))
        }
        await client.close()
        #expect(error == .unsupported(command: "query-cpu-model-comparison", target: "aarch64"))
    }

    @Test("the command that tells the accelerator, by QEMU version")
    func stateCommand() {
        #expect(AcceleratorState.command(for: QEMUVersion(major: 10, minor: 1, micro: 0)) == "query-kvm")
        #expect(AcceleratorState.command(for: QEMUVersion(major: 10, minor: 2, micro: 0)) == "query-accelerators")
        #expect(AcceleratorState.command(for: QEMUVersion(major: 11, minor: 0, micro: 0)) == "query-accelerators")
    }
}
