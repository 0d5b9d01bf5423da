import FaultInjection
import Foundation
import Prober
import QMP
import Testing

/// The same guest realized by this machine's two real QEMUs (7.2 from Debian, 10.0 from bookworm-backports), side
/// by side: topologies, old and new machine types, both accelerators, domain XML, saved results, bad input.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveGuestABITests {
    /// The topologies compared: one vCPU, cores, threads, sockets only.
    static let topologies = ["1", "2,sockets=1,cores=2", "2,sockets=1,cores=1,threads=2", "2,sockets=2,cores=1,threads=1"]

    static func compare(_ cpu: String, machine: String, smp: String, accelerator: String,
                        from source: GuestSide = .live(binary: nil)) async throws -> GuestABIReport {
        let new = try #require(LiveQEMU.newQEMU, "scripts/fetch-qemu-backports.sh provides QEMU 10.0")
        var checker = GuestABIChecker(source: source, destination: .live(binary: new))
        checker.cpu = cpu
        checker.machines = [machine]
        checker.topology = try SMPTopology(parsing: smp)
        checker.accelerator = accelerator
        return try await checker.run()
    }

    @Test("7.2 -> 10.0: ht (and cmp-legacy off Intel) exactly when a package has several logical processors",
          arguments: LiveQEMU.accelerators, topologies)
    func topologyDerived(accelerator: String, smp: String) async throws {
        // pc-q35-7.2: a current machine type both have; pc-i440fx-2.4: an old one that 10.0 still has.
        for (cpu, machine) in [("Skylake-Client-noTSX-IBRS", "pc-q35-7.2"), ("EPYC", "pc-i440fx-2.4")] {
            let report = try await Self.compare(cpu, machine: machine, smp: smp, accelerator: accelerator)
            let pair = try #require(report.pairs.first)
            let destination = try #require(pair.destination, "\(machine) exists in both QEMUs")
            #expect(pair.machine == machine && destination.resolvedMachine == machine)
            #expect(pair.source.version < destination.version)
            let several = (pair.source.threadsPerPackage ?? 1) > 1
            #expect(several == (smp.contains("cores=2") || smp.contains("threads=2")), "\(smp): \(pair.source.threadsPerPackage ?? 0)")
            let topology = Set(report.differences.filter { $0.cause == .topology }.map(\.feature))
            let intel = destination.properties["vendor"] == "GenuineIntel"
            let expected: Set<String> = several ? (intel ? ["ht"] : ["ht", "cmp-legacy"]) : []
            #expect(topology == expected, "\(cpu) \(machine) \(smp) \(accelerator): \(report.text)")
            for difference in report.differences where difference.cause == .topology {
                #expect(difference.direction == .extra && difference.libvirtFull.contains("extra features"))
            }
            // Everything else has a cause from the tables or the filtering; an unexplained change is a finding.
            let unexplained = report.differences.filter { $0.cause == .unexplained }
            if !unexplained.isEmpty { print("finding (\(cpu) \(machine) \(smp) \(accelerator)): \(unexplained.map(\.feature))") }
            #expect(report.differences.allSatisfy { !$0.detail.isEmpty })
            #expect(report.identical == report.differences.isEmpty)
        }
    }

    @Test("a domain XML gives the guest; the machine type 10.0 lacks on 7.2 is a blocker; bad topologies are QEMU's errors")
    func commandLine() async throws {
        let new = try #require(LiveQEMU.newQEMU)
        let directory = try PrivateDirectory()
        let domain = directory.path + "/guest.xml"
        try """
            <domain type='qemu'>
              <name>g</name>
              <vcpu placement='static'>2</vcpu>
              <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
              <cpu mode='custom' match='exact' check='full'>
                <model fallback='forbid'>Skylake-Client-noTSX-IBRS</model>
                <topology sockets='1' dies='1' cores='1' threads='2'/>
              </cpu>
            </domain>
            """.write(toFile: domain, atomically: true, encoding: .utf8)
        let (status, json) = try await LiveQEMUCommand.run(["cpu", "--domain", domain, "--to", new, "--json"])
        #expect(status == 1, "\(json)")
        let report = try JSON.parse(json)
        #expect(report["guest"]?["smp"]?.stringValue == "2,sockets=1,dies=1,cores=1,threads=2")
        #expect(report["guest"]?["accelerator"]?.stringValue == "tcg", "type='qemu' is TCG")
        #expect(report["guest"]?["machines"]?.arrayValue == ["pc-q35-7.2"])
        let ht = report["differences"]?.arrayValue?.first { $0["feature"]?.stringValue == "ht" }
        #expect(ht?["cause"]?.stringValue == "topology" && ht?["direction"]?.stringValue == "extra")

        // A machine type only the source has: blocked, exit 1, nothing left running.
        let (blocked, text) = try await LiveQEMUCommand.run(["cpu", "qemu64", "--qemu", new, "--machine", "pc-q35-10.0", "--accel", "tcg",
                                                              "--to", try #require(LiveQEMU.binary)])
        #expect(blocked == 1 && text.contains("pc-q35-10.0: BLOCKED: the destination's QEMU has no machine type pc-q35-10.0"), "\(text)")
        // The source's QEMU refuses: its own message, exit 2.
        let (unknown, unknownText) = try await LiveQEMUCommand.run(["cpu", "qemu64", "--machine", "pc-q35-99.0", "--accel", "tcg", "--to", new])
        #expect(unknown == 2 && unknownText.contains("unsupported machine type"), "\(unknownText)")
        let (topology, topologyText) = try await LiveQEMUCommand.run(["cpu", "qemu64", "--smp", "4,sockets=3", "--accel", "tcg", "--to", new])
        #expect(topology == 2 && topologyText.contains("Invalid CPU topology"), "\(topologyText)")
        let (arch, archText) = try await LiveQEMUCommand.run(["cpu", "qemu64", "--accel", "tcg", "--to", "/usr/bin/qemu-system-s390x"])
        #expect(arch == 2 && archText.contains("different architectures: x86_64 (source) and s390x (destination)"), "\(archText)")
    }

    @Test("another target (aarch64, virt): only full expansions and no hot-pluggable CPUs, still read and compared")
    func aarch64() async throws {
        let binary = "/usr/bin/qemu-system-aarch64"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "CI installs qemu-system-arm")
        var checker = GuestABIChecker(source: .live(binary: binary), destination: .live(binary: binary))
        checker.cpu = "cortex-a57"
        checker.machines = ["virt"]
        checker.topology = try SMPTopology(parsing: "2,cores=2")
        checker.accelerator = "tcg"
        let report = try await checker.run()
        #expect(report.identical, "\(report.text)")
        let pair = try #require(report.pairs.first)
        #expect(pair.machine.hasPrefix("virt-") && pair.source.arch == "aarch64" && pair.source.threadsPerPackage == nil)
        #expect(!pair.source.values.isEmpty && pair.source.vcpus == 2)
    }

    @Test("the source fails while the destination's QEMU is starting: exit 2, and no QEMU is left running")
    func noQEMULeftBehind() async throws {
        let new = try #require(LiveQEMU.newQEMU)
        // A versioned machine type: both sides start at once. Only 10.0 has pc-q35-10.0, so the source (7.2) fails.
        let marker = "abi-\(UUID().uuidString)"
        let (status, text) = try await LiveQEMUCommand.run(["cpu", "qemu64,model-id=\(marker)", "--machine", "pc-q35-10.0",
                                                            "--accel", "tcg", "--to", new])
        #expect(status == 2 && text.contains("unsupported machine type"), "\(text)")
        let left = await ProcessInspection.poll(timeout: .seconds(10)) { () -> [pid_t]? in
            let running = LiveQEMUCommand.processes(containing: marker)
            return running.isEmpty ? [] : nil
        }
        #expect(left == [], "QEMU processes left: \(LiveQEMUCommand.processes(containing: marker))")
    }

    @Test("a saved result is the other side later: cpu --live --json, then --from it on the new QEMU and --to it from the old",
          arguments: LiveQEMU.accelerators)
    func savedResult(accelerator: String) async throws {
        let new = try #require(LiveQEMU.newQEMU)
        let directory = try PrivateDirectory()
        let saved = directory.path + "/saved.json", recording = directory.path + "/guest.jsonl"
        let spec = ["EPYC", "--machine", "pc-i440fx-7.2", "--smp", "4,sockets=1,cores=2,threads=2", "--accel", accelerator]
        let (checked, json) = try await LiveQEMUCommand.run(["cpu"] + spec + ["--live", "--json"])
        #expect(checked == 0 || checked == 1)
        try json.write(toFile: saved, atomically: true, encoding: .utf8)
        // Restored after an upgrade: the saved 7.2 guest on 10.0.
        let (restored, restoredText) = try await LiveQEMUCommand.run(["cpu", "--from", saved, "--qemu", new, "--record", recording])
        #expect(restored == 1, "\(restoredText)")
        #expect(restoredText.contains("  +ht  src off, dst on  [topology]"))
        #expect(restoredText.contains("source:      QEMU 7.2.") && restoredText.contains("[\(saved)]"))
        // The recording of that run stands for the 10.0 guest later, offline.
        let (offline, offlineText) = try await LiveQEMUCommand.run(["cpu", "--from", saved, "--to", recording])
        #expect(offline == 1 && offlineText.contains("  +ht  src off, dst on  [topology]"), "\(offlineText)")
        // A new guest on 7.2 checked against the saved one: the same guest, identical.
        let (same, sameText) = try await LiveQEMUCommand.run(["cpu"] + spec + ["--to", saved])
        #expect(same == 0 && sameText.contains("pc-i440fx-7.2: identical"), "\(sameText)")
    }

    @Test("cpu --live --smp on 10.0: the realized ht that no expansion predicts is attributed to the topology")
    func checkWithTopology() async throws {
        let new = try #require(LiveQEMU.newQEMU)
        var checker = GuestCPUChecker(source: .launch(binary: new), accelerator: "tcg")
        checker.live = true
        checker.machines = ["pc-q35-7.2"]
        checker.topology = try SMPTopology(parsing: "2,sockets=1,cores=1,threads=2")
        let result = try await checker.run(spec: try CPUSpec(parsing: "Skylake-Client-noTSX-IBRS"))
        let ht = try #require(result.mismatches.first { $0.feature == "ht" }, "\(result.mismatches)")
        #expect(ht.cause == .topology && ht.realized && !ht.predicted)
        #expect(result.text.contains(", smp 2,sockets=1,cores=1,threads=2"))
        // The updated <cpu> says what libvirt's would: ht required (10.0 reports it), and the topology.
        #expect(result.updatedXML.contains("<topology sockets='1' cores='1' threads='2'/>"))
        #expect(result.updatedXML.contains("<feature policy='require' name='ht'/>"))
        let reread = try LibvirtDomain(xml: Data(result.updatedXML.utf8), source: "updated")
        #expect(reread.cpu?.topology == ["sockets": 1, "cores": 1, "threads": 2])
        #expect(try await SchemaValidation.errors(result.json, schema: "cpu-check.schema.json") == nil)
    }
}

/// Runs the built `qmp-probe`.
enum LiveQEMUCommand {
    /// Exit status and stdout followed by stderr.
    static func run(_ arguments: [String]) async throws -> (Int32, String) {
        let executable = try #require(BuiltProducts.qmpProbe, "qmp-probe is not built next to the tests: run swift build --build-tests")
        let outcome = try await Subprocess.run(executable, arguments)
        return (outcome.exitStatus ?? -1, outcome.stdout + outcome.stderr)
    }

    /// The processes whose command line contains `marker`.
    static func processes(containing marker: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            ProcessInspection.commandLine(of: pid)?.contains { $0.contains(marker) } == true
        }
    }
}
