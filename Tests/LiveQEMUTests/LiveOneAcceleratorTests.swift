import Foundation
import Prober
import QMP
import Testing

/// A probe of one accelerator still answers the main question: what QEMU adds or removes. A hardware accelerator
/// probed alone is compared with TCG of the same QEMU, probed only as the reference; every output says which
/// reference was used, or that there is none.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveOneAcceleratorTests {
    @Test("KVM alone: added/removed against TCG probed as the reference, the same as in a probe of both; TCG not reported",
          .enabled(if: QEMUBinary.kvmUsable, "KVM is not usable here"))
    func kvmAlone() async throws {
        let alone = try await ProbeRunner(source: .launch(binary: nil, accelerators: ["kvm"])).run()
        #expect(alone.accelerators.map(\.name) == ["kvm"])
        let kvm = try #require(alone.accelerators.first)
        #expect(kvm.reference == ProbeReference.probedForReferenceLabel && kvm.referenceKind == .probedForReference)
        let qemu64 = try #require(kvm.models.first { $0.name == "qemu64" })
        #expect(qemu64.added?.contains("x2apic") == true && qemu64.added?.contains("kvmclock") == true, "\(qemu64)")
        #expect(kvm.models.allSatisfy { $0.added != nil && $0.removed != nil })

        let both = try await ProbeRunner(source: .launch(binary: nil, accelerators: ["kvm", "tcg"])).run()
        let together = try #require(both.accelerators.first { $0.name == "kvm" })
        #expect(together.referenceKind == .sameQEMU)
        #expect(kvm.models.map(\.added) == together.models.map(\.added))
        #expect(kvm.models.map(\.removed) == together.models.map(\.removed))

        #expect(TextReport.render(alone).contains("against tcg in the same QEMU, probed as the reference, every model gets: +"))
        #expect(alone.json["accelerators"]?["kvm"]?["reference_kind"] == "probed-for-reference")
    }

    @Test("TCG alone: no reference, and the text and JSON say so")
    func tcgAlone() async throws {
        let report = try await ProbeRunner(source: .launch(binary: nil, accelerators: ["tcg"])).run()
        let tcg = try #require(report.accelerators.first)
        #expect(report.accelerators.count == 1 && tcg.reference == nil && tcg.referenceKind == .none)
        #expect(tcg.models.allSatisfy { $0.added == nil })
        #expect(TextReport.render(report).contains("added/removed: no reference: tcg is the reference of the hardware accelerators"))
        #expect(report.json["accelerators"]?["tcg"]?["reference_kind"] == "none")
    }
}
