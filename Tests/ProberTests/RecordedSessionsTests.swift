import Foundation
import Prober
import QMP
import Testing

/// Every session in `recorded-sessions/` replays through the prober offline, and says what it recorded.
struct RecordedSessionsTests {
    @Test("every recording replays into a valid report", arguments: ProberTestSupport.recordedSessions)
    func replaysEveryFile(path: String) async throws {
        let report = try await ProberTestSupport.replay(path)
        #expect(report.accelerators.count == 1)
        let accelerator = try #require(report.accelerators.first)
        #expect(path.contains("-\(accelerator.name).jsonl"))
        #expect(path.contains("-\(report.arch ?? "?")-"), "the file name names the target QEMU reported")
        #expect(accelerator.hostModel != nil)
        // Every model was expanded: enabled features are known.
        #expect(accelerator.models.allSatisfy { $0.enabled != nil })
        let target = QEMUTarget(arch: report.arch)
        if target.family == .x86 {
            #expect(accelerator.models.count > 100)
            // On x86 every model's features include `hypervisor`.
            #expect(accelerator.models.allSatisfy { $0.enabled?.contains("hypervisor") == true || $0.name == "base" })
        }
        if target.reportsUnavailableFeatures {
            #expect(accelerator.notes.isEmpty, "\(accelerator.notes)")
        } else {
            // The one thing such a target cannot say: which models are usable.
            #expect(accelerator.notes.count == 1 && accelerator.notes[0].contains("unavailable-features"), "\(accelerator.notes)")
        }
        #expect(try await ProberTestSupport.schemaErrors(report.json) == nil)
    }

    @Test("QEMU versions and model counts: 7.2 has 132 models, 10.0 has 154")
    func versionsAndCounts() async throws {
        for (file, version, count) in [("qemu-7.2-x86_64-tcg.jsonl", "7.2.22", 132), ("qemu-10.0-x86_64-tcg.jsonl", "10.0.2", 154)] {
            let report = try await ProberTestSupport.replay(ProberTestSupport.recorded(file))
            #expect(report.version.description == version)
            #expect(report.arch == "x86_64")
            #expect(report.accelerators[0].models.count == count)
            #expect(report.accelerators[0].models.filter { $0.aliasOf != nil }.count >= 55)
        }
    }

    @Test("KVM on 7.2: Westmere's unavailable features, verbatim, and dropped canonically")
    func westmereBlockers() async throws {
        let report = try await ProberTestSupport.replay(ProberTestSupport.recorded("qemu-7.2-x86_64-kvm.jsonl"))
        let westmere = try ProberTestSupport.model(report, "kvm", "Westmere")
        // Read from the recording by hand: this host masks these SSE-era features from KVM guests.
        #expect(westmere.blockers == ["pni", "pclmulqdq", "ssse3", "sse4.1", "sse4.2", "popcnt", "aes"])
        #expect(westmere.usable == false)
        #expect(westmere.dropped == ["aes", "pclmulqdq", "pni", "popcnt", "sse4.1", "sse4.2", "ssse3"])
        #expect(westmere.aliasOf == "Westmere-v1")
        #expect(westmere.enabled?.contains("arat") == true)
    }

    @Test("KVM against TCG in the same QEMU 7.2: x2apic, vme and the kvm-* features are added")
    func kvmAddsFeatures() async throws {
        let kvm = try RecordingLoader.load(path: ProberTestSupport.recorded("qemu-7.2-x86_64-kvm.jsonl"))
        let tcg = try RecordingLoader.load(path: ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl"))
        let combined = FileManager.default.temporaryDirectory.appendingPathComponent("combined-\(getpid()).jsonl").path
        _ = (kvm, tcg, combined)
        // Gather both sessions and compute one report, as a live two-accelerator probe does.
        var probes: [AcceleratorProbe] = []
        for file in ["qemu-7.2-x86_64-kvm.jsonl", "qemu-7.2-x86_64-tcg.jsonl"] {
            let (gathered, _, _) = try await ProbeRunner(source: .replay(path: ProberTestSupport.recorded(file), mode: .matching)).gather()
            probes += gathered
        }
        let report = ProbeReport.compute(probes: probes, source: "test")
        #expect(report.accelerators.map(\.name) == ["kvm", "tcg"])
        #expect(report.accelerators[0].reference == "tcg in the same QEMU")
        #expect(report.accelerators[1].reference == nil)
        let epyc = try ProberTestSupport.model(report, "kvm", "EPYC")
        let expectedAdded = ["kvm-asyncpf", "kvm-nopiodelay", "kvm-pv-eoi", "kvm-steal-time", "kvmclock", "kvmclock-stable-bit", "vme", "x2apic"]
        #expect(epyc.added == expectedAdded)
        #expect(epyc.removed == ["monitor", "npt", "nrip-save", "svm"])
        #expect(epyc.highlights == ["x2apic"])
        let qemu64 = try ProberTestSupport.model(report, "kvm", "qemu64")
        #expect(qemu64.added?.contains("x2apic") == true)
        #expect(try ProberTestSupport.model(report, "tcg", "qemu64").added == nil)
    }

    @Test("QEMU 10.0 against 7.2 under TCG: the host model gains features, new models appear")
    func versionsCompared() async throws {
        let (old, _, _) = try await ProbeRunner(source: .replay(path: ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl"), mode: .matching)).gather()
        let report = try await ProberTestSupport.replay(ProberTestSupport.recorded("qemu-10.0-x86_64-tcg.jsonl"),
                                                        against: ["tcg": ("QEMU 7.2", old[0])])
        let max = try ProberTestSupport.model(report, "tcg", "max")
        // TCG supports x2apic from QEMU 9.0 on: `max` gains it.
        #expect(max.added?.contains("x2apic") == true)
        #expect(max.highlights.contains("x2apic"))
        let newModels = Set(report.accelerators[0].models.map(\.name)).subtracting(old[0].definitions!.map(\.name))
        #expect(newModels.contains("SierraForest"))
        #expect(newModels.count == 22)
    }
}
