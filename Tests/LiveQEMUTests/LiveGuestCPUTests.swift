import Foundation
import Prober
import QMP
import Testing

/// The guest CPU check against this machine's QEMU, predicted and verified on paused guests.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveGuestCPUTests {
    /// Models: one this host can run, one it cannot (found from the probe), and host/max.
    static func models(_ accelerator: String) async throws -> (usable: String, blocked: ProbeReport.Model) {
        var runner = ProbeRunner(source: .launch(binary: nil, accelerators: [accelerator]))
        runner.expandModels = false
        let report = try await runner.run()
        let models = report.accelerators[0].models.filter { $0.aliasOf == nil && !["host", "max", "base"].contains($0.name) }
        let usable = try #require(models.first { $0.usable == true }?.name)
        let blocked = try #require(models.first { $0.usable == false && !($0.blockers ?? []).isEmpty })
        return (usable, blocked)
    }

    static func check(_ spec: String, _ accelerator: String, machines: [String?] = [nil]) async throws -> GuestCPUResult {
        var checker = GuestCPUChecker(source: .launch(binary: nil), accelerator: accelerator)
        checker.live = true
        checker.machines = machines
        return try await checker.run(spec: CPUSpec(parsing: spec))
    }

    @Test("dropped features equal QEMU's unavailable-features; prediction equals the realized CPU",
          arguments: LiveQEMU.accelerators)
    func blockedModel(accelerator: String) async throws {
        let (_, blocked) = try await Self.models(accelerator)
        let result = try await Self.check(blocked.name, accelerator)
        let filtered = Set(result.dropped.filter { $0.cause == .hostFiltering }.map(\.feature))
        #expect(filtered == Set(blocked.blockers ?? []), "\(blocked.name)")
        #expect(result.realized.count == 1)
        #expect(result.mismatches.isEmpty, "\(result.mismatches)")
        // The realized CPU's own unavailable-features agree with query-cpu-definitions.
        #expect(Set(result.realized[0].unavailable ?? []) == Set(blocked.blockers ?? []))
        #expect(!result.exact)
    }

    @Test("a usable model, and host/max, realize as predicted", arguments: LiveQEMU.accelerators)
    func usableModels(accelerator: String) async throws {
        let (usable, _) = try await Self.models(accelerator)
        // Under KVM this host's QEMU 7.2 aborts on `-cpu host` ("failed to set MSR 0x10a": arch-capabilities
        // on a nested host), so host is checked without that one feature.
        for spec in [usable, accelerator == "kvm" ? "host,-arch-capabilities" : "max"] {
            let result = try await Self.check(spec, accelerator)
            #expect(result.mismatches.isEmpty, "\(spec): \(result.mismatches)")
            #expect(result.dropped.allSatisfy { $0.cause != .hostFiltering }, "\(spec)")
            #expect(result.realized[0].commands > 100, "reading the CPU is one qom-get per feature")
        }
    }

    @Test("under KVM on QEMU 7.2, x2apic is added to qemu64 by the accelerator",
          .enabled(if: QEMUBinary.kvmUsable, "/dev/kvm is not usable"))
    func x2apicAddedUnderKVM() async throws {
        let result = try await Self.check("qemu64", "kvm")
        let x2apic = try #require(result.added.first { $0.feature == "x2apic" })
        #expect(x2apic.cause == .acceleratorDefault)
        #expect(result.updated.contains("x2apic"))
        #expect(!result.prediction.requested.contains("x2apic"))
        #expect(result.updatedXML.contains("<feature policy='require' name='x2apic'/>"))
    }

    @Test("re-running the check on the updated definition reports no change", arguments: LiveQEMU.accelerators)
    func rerunUpdated(accelerator: String) async throws {
        let first = try await Self.check("Westmere,-aes", accelerator)
        #expect(!first.exact)
        // The -cpu string reproduces the realized CPU explicitly.
        let again = try await Self.check(first.updatedCommandLine, accelerator)
        #expect(again.exact, "added \(again.added), dropped \(again.dropped)")
        #expect(again.updated == first.updated)
        // The updated XML parses back; libvirt keeps KVM's paravirtual features outside <cpu>, so only those
        // may come back as added.
        let xml = try LibvirtDomainCPU(xml: Data(first.updatedXML.utf8), source: "updated")
        #expect(xml.check == "full")
        let fromXML = try await Self.check(xml.spec(accelerator: accelerator).description, accelerator)
        #expect(fromXML.dropped.isEmpty)
        #expect(fromXML.added.allSatisfy { !LibvirtFeatureNames.isCPUFeature($0.feature) }, "\(fromXML.added)")
    }

    @Test("machine types: pc-i440fx-1.7 turns x2apic off for qemu64 under KVM",
          .enabled(if: QEMUBinary.kvmUsable, "/dev/kvm is not usable"))
    func machineTypeX2APIC() async throws {
        let result = try await Self.check("qemu64", "kvm", machines: ["pc-i440fx-1.7", "pc"])
        let difference = try #require(result.machineDifferences.first { $0.feature == "x2apic" })
        #expect(difference.values.map(\.enabled) == [false, true])
        let mismatch = try #require(result.mismatches.first { $0.feature == "x2apic" })
        #expect(mismatch.machine == "pc-i440fx-1.7")
        #expect(mismatch.cause == .machineCompat)
    }

    @Test("machine types: pc-i440fx-2.3 turns arat off for Westmere", arguments: LiveQEMU.accelerators)
    func machineTypeARAT(accelerator: String) async throws {
        let result = try await Self.check("Westmere", accelerator, machines: ["pc-i440fx-2.3", "pc"])
        let difference = try #require(result.machineDifferences.first { $0.feature == "arat" })
        #expect(difference.values.map(\.enabled) == [false, true])
        #expect(result.mismatches.first { $0.feature == "arat" }?.cause == .machineCompat)
        #expect(result.dropped.first { $0.feature == "arat" }?.cause == .machineCompat)
    }

    @Test("the accelerator defaults table holds for this QEMU (KVM against TCG on qemu64 and EPYC)",
          .enabled(if: QEMUBinary.kvmUsable, "/dev/kvm is not usable"))
    func defaultsTable() async throws {
        for model in ["qemu64", "EPYC"] {
            let kvm = try await Self.check(model, "kvm")
            let unexplained = (kvm.prediction.added + kvm.prediction.dropped).filter { $0.cause == .unexplained }
            #expect(unexplained.isEmpty, "\(model): \(unexplained)")
        }
    }

    @Test("an unknown model or feature names it and suggests the nearest; no guest starts")
    func unknownNames() async throws {
        // The names are checked before any guest starts: with a machine type that does not exist, the error is
        // still about the name.
        do {
            _ = try await Self.check("Haswel", "tcg", machines: ["no-such-machine"])
            Issue.record("expected an error")
        } catch let error as ProberError {
            #expect(error.description.contains("'Haswel'") && error.description.contains("'Haswell'"))
        }
        do {
            _ = try await Self.check("qemu64,+x2apicc", "tcg")
            Issue.record("expected an error")
        } catch let error as ProberError {
            #expect(error.description.contains("'x2apicc'") && error.description.contains("'x2apic'"))
        }
    }

    @Test("QEMU's own failure to start a guest CPU is reported with its stderr")
    func guestFailsToStart() async throws {
        do {
            _ = try await Self.check("qemu64", "tcg", machines: ["no-such-machine"])
            Issue.record("expected an error")
        } catch let error as ProberError {
            guard case .qemuFailedToStart(_, _, let stderr) = error else {
                Issue.record("expected qemuFailedToStart, got \(error)")
                return
            }
            #expect(stderr.contains("unsupported machine type"))
        }
    }
}
