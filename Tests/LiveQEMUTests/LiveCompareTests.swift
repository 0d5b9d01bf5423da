import Foundation
import Prober
import QMP
import Testing

/// The seed scenario live: this machine's QEMU 7.2 and QEMU 10.0 probed now, side by side, and a guest CPU realized
/// by each checked against the other, under TCG (host-independent: what each QEMU's TCG emulates) and KVM.
@Suite(.enabled(if: LiveQEMU.available && LiveQEMU.newQEMU != nil,
                "needs qemu-system-x86_64 and the second QEMU (QMP_PROBE_QEMU_NEW; scripts/test.sh sets it)"))
struct LiveCompareTests {
    static let models: Set<String> = ["Haswell", "Skylake-Client-v4", "EPYC", "EPYC-Milan", "qemu64", "max", "host"]

    /// Probes `binary` live for `accelerators`, expanding only ``models``.
    static func probe(_ binary: String?, label: String, accelerators: [String]) async throws -> HostResult {
        var runner = ProbeRunner(source: .launch(binary: binary, accelerators: accelerators))
        runner.onlyModels = models
        return HostResult(label: label, paths: [], report: try await runner.run())
    }

    static func recorded(_ version: String, _ accelerator: String) async throws -> HostResult {
        try await HostResultLoader.load("recorded-\(version)=" + Self.repository + "/recorded-sessions/qemu-\(version)-x86_64-\(accelerator).jsonl")
    }

    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func blockers(_ report: CompareReport, _ accelerator: String, _ model: String) throws -> [String: ModelVerdict.Reason] {
        let section = try #require(report.accelerators.first { $0.name == accelerator })
        let verdict = try #require(section.verdicts.first { $0.model == model })
        return Dictionary(verdict.blockers.map { ($0.feature, $0.reason) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("TCG: a 10.0 guest needs x2apic (and 3dnowprefetch, rdseed, sha-ni) that 7.2's TCG lacks; a 7.2 guest runs on 10.0")
    func tcg() async throws {
        let binary = try #require(LiveQEMU.newQEMU)
        async let old = Self.probe(nil, label: "7.2", accelerators: ["tcg"])
        async let new = Self.probe(binary, label: "10.0", accelerators: ["tcg"])
        let (oldHost, newHost) = try await (old, new)
        #expect(oldHost.report.version.major == 7 && newHost.report.version.major == 10)
        let forward = try CompareReport.compute(source: newHost, destination: oldHost)
        #expect(try Self.blockers(forward, "tcg", "Haswell") == ["x2apic": .unavailable])
        #expect(try Self.blockers(forward, "tcg", "Skylake-Client-v4") == ["3dnowprefetch": .unavailable, "rdseed": .unavailable, "x2apic": .unavailable])
        #expect(try Self.blockers(forward, "tcg", "EPYC") == ["3dnowprefetch": .unavailable, "rdseed": .unavailable, "sha-ni": .unavailable])
        #expect(try Self.blockers(forward, "tcg", "qemu64").isEmpty)
        #expect(try Self.blockers(forward, "tcg", "max")["x2apic"] == .notInHostModel)
        let backward = try CompareReport.compute(source: oldHost, destination: newHost)
        for model in ["Haswell", "Skylake-Client-v4", "EPYC", "EPYC-Milan", "qemu64"] {
            #expect(try Self.blockers(backward, "tcg", model).isEmpty, "\(model)")
        }
        #expect(try Self.blockers(backward, "tcg", "max") == ["pcommit": .notInHostModel])
        // The live probes agree with the recordings (TCG does not depend on the host).
        let recorded = try CompareReport.compute(source: try await Self.recorded("10.0", "tcg"), destination: try await Self.recorded("7.2", "tcg"))
        for model in Self.models {
            #expect(try Self.blockers(forward, "tcg", model) == Self.blockers(recorded, "tcg", model), "\(model)")
        }
    }

    @Test("KVM: each QEMU's guest against the other; on the recordings' host CPU, the same verdicts as the recordings",
          .enabled(if: QEMUBinary.kvmUsable, "/dev/kvm is not usable here"))
    func kvm() async throws {
        let binary = try #require(LiveQEMU.newQEMU)
        async let old = Self.probe(nil, label: "7.2", accelerators: ["kvm"])
        async let new = Self.probe(binary, label: "10.0", accelerators: ["kvm"])
        let (oldHost, newHost) = try await (old, new)
        let forward = try CompareReport.compute(source: newHost, destination: oldHost)
        let backward = try CompareReport.compute(source: oldHost, destination: newHost)
        // A QEMU's own guests always fit the same QEMU on the same host.
        for host in [oldHost, newHost] {
            let itself = try CompareReport.compute(source: host, destination: host)
            for model in Self.models { #expect(try Self.blockers(itself, "kvm", model).isEmpty, "\(host.label) \(model)") }
        }
        let recordedOld = try await Self.recorded("7.2", "kvm")
        let header = try RecordingLoader.load(path: Self.repository + "/recorded-sessions/qemu-7.2-x86_64-kvm.jsonl")[0].header
        if header.hostCPU == HostCPUSignature.current() {
            // The host the recordings were made on: erms (and fsrm for EPYC-Milan) block the 10.0 guest, as recorded.
            #expect(try Self.blockers(forward, "kvm", "Haswell") == ["erms": .unavailable])
            #expect(try Self.blockers(forward, "kvm", "EPYC-Milan") == ["erms": .unavailable, "fsrm": .unavailable])
            let recorded = try CompareReport.compute(source: try await Self.recorded("10.0", "kvm"), destination: recordedOld)
            for model in Self.models where model != "host" && model != "max" {
                #expect(try Self.blockers(forward, "kvm", model) == Self.blockers(recorded, "kvm", model), "\(model)")
            }
            for model in Self.models { #expect(try Self.blockers(backward, "kvm", model).isEmpty, "\(model)") }
        } else {
            print("note: this host CPU differs from the recordings' (\(String(describing: header.hostCPU))): KVM verdicts are checked for consistency only")
            #expect(forward.accelerators[0].verdicts.count == newHost.report.accelerators[0].models.count)
        }
    }
}
