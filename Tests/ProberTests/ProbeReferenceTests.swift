import Foundation
@testable import Prober
import QMP
import Testing

/// Which reference `added`/`removed` use, and how every output names it.
struct ProbeReferenceTests {
    @Test("hardware accelerators (kvm, hvf) are compared with TCG; TCG has no reference of the same QEMU")
    func referenceAccelerator() {
        #expect(ProbeReference.accelerator(for: "kvm") == "tcg")
        #expect(ProbeReference.accelerator(for: "hvf") == "tcg")
        #expect(ProbeReference.accelerator(for: "tcg") == nil)
        #expect(ProbeReference.kind(of: nil) == .none)
        #expect(ProbeReference.kind(of: ProbeReference.sameQEMULabel) == .sameQEMU)
        #expect(ProbeReference.kind(of: ProbeReference.probedForReferenceLabel) == .probedForReference)
        #expect(ProbeReference.kind(of: "qemu-7.2.json") == .external)
    }

    @Test("a recorded KVM session alone: no reference, said in the text and the JSON (schema-valid); with TCG: the same QEMU's")
    func recordedSessions() async throws {
        let kvm = try await ProberTestSupport.replay(ProberTestSupport.recorded("qemu-7.2-x86_64-kvm.jsonl"))
        let section = try #require(kvm.accelerators.first)
        #expect(section.name == "kvm" && section.referenceKind == .none)
        #expect(TextReport.render(kvm).contains("added/removed: no reference: no TCG session of this QEMU was probed or recorded (--against FILE gives one)"))
        #expect(kvm.json["accelerators"]?["kvm"]?["reference_kind"] == "none")
        #expect(try await ProberTestSupport.schemaErrors(kvm.json) == nil)

        let (kvmProbes, _, _) = try await ProbeRunner(source: .replay(path: ProberTestSupport.recorded("qemu-7.2-x86_64-kvm.jsonl"), mode: .matching)).gather()
        let (tcgProbes, _, _) = try await ProbeRunner(source: .replay(path: ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl"), mode: .matching)).gather()
        let both = ProbeReport.compute(probes: kvmProbes + tcgProbes, source: "test")
        #expect(both.accelerators.map(\.referenceKind) == [.sameQEMU, .none])
        // As a quiet reference would be labelled: the JSON says so and stays schema-valid.
        let quiet = ProbeReport.compute(probes: kvmProbes, source: "test",
                                        against: ["kvm": (ProbeReference.probedForReferenceLabel, tcgProbes[0])])
        #expect(quiet.json["accelerators"]?["kvm"]?["reference_kind"] == "probed-for-reference")
        #expect(quiet.accelerators[0].models.map(\.added) == both.accelerators[0].models.map(\.added))
        #expect(try await ProberTestSupport.schemaErrors(quiet.json) == nil)
        #expect(TextReport.render(quiet).contains("against tcg in the same QEMU, probed as the reference, every model gets: +"))
    }

    @Test("ppc64 models take the spelling of libvirt's CPU map, ignoring case; 32-bit ppc and other targets keep QEMU's")
    func ppc64Names() {
        let ppc64 = QEMUTarget(arch: "ppc64")
        #expect(ppc64.libvirtModelName("power9") == "POWER9")
        #expect(ppc64.libvirtModelName("power10") == "POWER10")
        #expect(ppc64.libvirtModelName("power8nvl") == "power8nvl")
        #expect(ppc64.libvirtModelName("e5500") == "e5500")
        #expect(QEMUTarget(arch: "ppc").libvirtModelName("power7") == "power7")
        #expect(QEMUTarget(arch: "x86_64").libvirtModelName("power7") == "power7")
    }
}
