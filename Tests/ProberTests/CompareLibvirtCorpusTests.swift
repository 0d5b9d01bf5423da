import Foundation
import Prober
import QMP
import Testing

/// compare over libvirt's recorded probes (no per-model expansions: checked by model) and this machine's QEMU.
/// Expected blockers were read by hand from the `.replies` files' `query-cpu-definitions` replies.
@Suite(.enabled(if: ProberTestSupport.libvirtCorpus != nil, "../shared/corpus/libvirt is absent"))
struct CompareLibvirtCorpusTests {
    static func corpusHost(_ name: String) async throws -> HostResult {
        try await CompareTestSupport.host("\(try #require(ProberTestSupport.libvirtCorpus))/caps_\(name).x86_64.replies")
    }

    @Test("2.11 onto 4.2: what 4.2 lists as unavailable and 2.11 did not (pku, npt, nrip-save, ibpb)")
    func oldToNew() async throws {
        let report = try CompareReport.compute(source: try await Self.corpusHost("2.11.0"), destination: try await Self.corpusHost("4.2.0"))
        #expect(report.accelerators.map(\.name) == ["kvm", "tcg"])
        let kvm = report.accelerators[0]
        #expect(kvm.verdicts.count == 34)
        #expect(kvm.verdicts.allSatisfy { $0.basis == .model })
        #expect(kvm.notes.contains { $0.contains("no per-model expansions") })
        let skylake = try CompareTestSupport.verdict(report, "kvm", "Skylake-Server")
        #expect(CompareTestSupport.blockers(skylake) == ["pku": .unavailable])
        // 2.11 has no versions: its models are the legacy (-v1) definitions.
        #expect(skylake.destinationModel == "Skylake-Server-v1")
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "kvm", "Opteron_G4"))
                == ["npt": .unavailable, "nrip-save": .unavailable])
        #expect(kvm.verdicts.filter { !$0.compatible }.map(\.model) == ["Skylake-Server", "Opteron_G5", "Opteron_G4", "EPYC"])
        #expect(try CompareTestSupport.verdict(report, "tcg", "Westmere").compatible)
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "tcg", "Opteron_G4")) == ["nrip-save": .unavailable])
    }

    @Test("4.2 onto 2.11: the versioned models are missing; phenom under TCG needs npt, which 2.11's TCG lacked")
    func newToOld() async throws {
        let report = try CompareReport.compute(source: try await Self.corpusHost("4.2.0"), destination: try await Self.corpusHost("2.11.0"))
        let kvm = report.accelerators[0]
        #expect(kvm.verdicts.count == 113)
        #expect(kvm.verdicts.filter(\.modelMissing).count == 79)
        #expect(try CompareTestSupport.verdict(report, "kvm", "Skylake-Server-v1").modelMissing)
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "tcg", "phenom")) == ["npt": .unavailable])
        // 2.11 runs only old machine types, where Haswell is the legacy definition (Haswell-v1 in 4.2): 4.2's TCG
        // filters its hle and rtm too; 2.11's TCG lacks rdrand, 4.2's has it.
        let haswell = try CompareTestSupport.verdict(report, "tcg", "Haswell")
        #expect(CompareTestSupport.blockers(haswell) == ["rdrand": .unavailable])
        #expect(haswell.sourceModel == "Haswell-v1")
    }

    @Test("4.2 (libvirt, Intel host) against this machine's 7.2, both ways")
    func corpusAgainstThisMachine() async throws {
        let corpus = try await Self.corpusHost("4.2.0")
        let local = try await CompareTestSupport.recordedHost("7.2")
        let toLocal = try CompareReport.compute(source: corpus, destination: local)
        // This host masks pni from KVM guests: the 4.2 guest has it.
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(toLocal, "kvm", "qemu64")) == ["pni": .unavailable])
        #expect(try CompareTestSupport.verdict(toLocal, "kvm", "pentium3").compatible)
        // Under TCG only the Icelake-Client models block: 7.2 no longer has them.
        let tcgBlocked = toLocal.accelerators[1].verdicts.filter { !$0.compatible }
        #expect(tcgBlocked.map(\.model) == ["Icelake-Client-v2", "Icelake-Client-v1", "Icelake-Client-noTSX", "Icelake-Client"])
        #expect(tcgBlocked.allSatisfy { $0.modelMissing })
        let fromLocal = try CompareReport.compute(source: local, destination: corpus)
        // The 7.2 guest is checked feature by feature; 4.2's Intel host lacks AMD features.
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(fromLocal, "kvm", "athlon")) == ["mmxext": .unavailable])
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(fromLocal, "tcg", "Haswell"))
                == ["avx": .unavailable, "avx2": .unavailable, "f16c": .unavailable, "fma": .unavailable])
        let max = CompareTestSupport.blockers(try CompareTestSupport.verdict(fromLocal, "kvm", "max"))
        #expect(max["kvm-asyncpf-int"] == .unknownFeature)
        #expect(try await CompareTestSupport.schemaErrors(fromLocal.json, schema: "compare-report") == nil)
    }
}
