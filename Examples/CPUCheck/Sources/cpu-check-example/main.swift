// What a checker built on qmp-probe's library does, offline, from the project's recorded sessions:
// probe a QEMU, check one guest CPU, compare two hosts, and compare one guest across two QEMU versions.
import Foundation
import Prober
import QMP

/// The repository's `recorded-sessions/` (this file is Examples/CPUCheck/Sources/cpu-check-example/main.swift),
/// or the folder given as the first argument.
let sessions: String = CommandLine.arguments.dropFirst().first ?? {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<5 { url.deleteLastPathComponent() }
    return url.path + "/recorded-sessions"
}()

do {
    // 1. Probe: which models QEMU 7.2 can run under each accelerator on the recorded host, and what KVM adds to
    //    qemu64 against TCG in the same QEMU (both recorded sessions make one host, as a live probe of both does).
    let recorded = try await ProbeRunner(source: .replay(path: sessions + "/qemu-7.2-x86_64-tcg.jsonl", mode: .matching)).run()
    print("probe: one session: \(recorded.accelerators.map(\.name)) from \(recorded.source)")
    let probe = try await HostResultLoader.load("\(sessions)/qemu-7.2-x86_64-kvm.jsonl,\(sessions)/qemu-7.2-x86_64-tcg.jsonl").report
    for accelerator in probe.accelerators {
        let usable = accelerator.models.filter { $0.usable == true }
        print("probe: QEMU \(probe.version) \(accelerator.name): \(usable.count) of \(accelerator.models.count) models usable")
        if let qemu64 = accelerator.models.first(where: { $0.name == "qemu64" }) {
            print("probe: qemu64 blockers \(qemu64.blockers ?? []), added \(qemu64.added ?? [])")
        }
    }

    // 2. One guest CPU: what QEMU adds to and drops from Haswell-noTSX,+x2apic,-hle,vmx=off, and why.
    let checker = GuestCPUChecker(source: .replay(path: sessions + "/cpu-7.2-x86_64-kvm-haswell-notsx.jsonl"), accelerator: "kvm")
    let guest = try await checker.run(spec: try CPUSpec(parsing: "Haswell-noTSX,+x2apic,-hle,vmx=off"))
    print("cpu: added " + guest.added.map { "\($0.feature) (\($0.cause.rawValue))" }.joined(separator: ", "))
    print("cpu: dropped " + guest.dropped.map { "\($0.feature) (\($0.cause.rawValue))" }.joined(separator: ", "))

    // 3. Two hosts: can a Haswell guest started under QEMU 10.0's TCG run under 7.2's?
    let new = try await HostResultLoader.load(sessions + "/qemu-10.0-x86_64-tcg.jsonl")
    let old = try await HostResultLoader.load(sessions + "/qemu-7.2-x86_64-tcg.jsonl")
    let comparison = try CompareReport.compute(source: new, destination: old, cpu: try CPUSpec.parse("Haswell"))
    for section in comparison.accelerators {
        for verdict in section.verdicts {
            print("compare: \(section.name) \(verdict.model): \(verdict.compatible ? "compatible" : "blocked by \(verdict.blockers.map(\.feature))")")
        }
    }

    // 4. One guest across QEMU versions: the realized CPU of 7.2 against 10.0's, from two recorded guests.
    let label = "kvm-epyc-i440fx-7.2-cores2-threads2"
    let abi = try await GuestABIChecker(source: .saved(path: "\(sessions)/guests/guest-7.2-x86_64-\(label).jsonl"),
                                        destination: .saved(path: "\(sessions)/guests/guest-10.0-x86_64-\(label).jsonl")).run()
    for difference in abi.differences {
        print("abi: \(difference.machine) \(difference.feature) \(difference.direction.rawValue) (\(difference.cause.rawValue)): \(difference.libvirtFull)")
    }
    print("abi: identical \(abi.identical)")
} catch let error as ProberError {
    FileHandle.standardError.write(Data("cpu-check-example: \(error)\n".utf8))
    exit(2)
}
