import Foundation
import Prober
import QMP
import Testing

/// `baseline` over real results: this machine's QEMU 7.2 and 10.0 (recorded-sessions), and libvirt's recorded
/// probes of QEMU 2.11 and 4.2 (another, Intel, host). Expectations were read by hand from the recordings
/// (`unavailable-features`, host-model expansions) and cross-checked with a separate Python intersection.
struct CompareBaselineTests {
    static func recordedFleet() async throws -> [HostResult] {
        [try await CompareTestSupport.recordedHost("10.0"), try await CompareTestSupport.recordedHost("7.2")]
    }

    @Test("7.2 and 10.0 on this host: under KVM only the old models run on both; usable as is, the baseline is pentium3 plus the shared features")
    func recordedKVM() async throws {
        let report = try FleetBaseline.compute(hosts: try await Self.recordedFleet(), accelerators: ["kvm"], rule: .usableAsIs)
        let kvm = report.accelerators[0]
        #expect(kvm.models.filter(\.usableEverywhere).map(\.name)
                == ["max", "host", "base", "pentium3-v1", "pentium3", "pentium2-v1", "pentium2", "pentium-v1", "pentium", "486-v1", "486"])
        #expect(kvm.shared.count == 61)
        #expect(kvm.shared.contains("x2apic") && kvm.shared.contains("lahf-lm") && !kvm.shared.contains("invtsc"))
        let qemu64 = try #require(kvm.models.first { $0.name == "qemu64" })
        #expect(qemu64.blockedBy == [.init(hosts: [0, 1], missing: false, blockers: ["pni"], unknown: false)])
        let sapphire = try #require(kvm.models.first { $0.name == "SapphireRapids" })
        #expect(sapphire.blockedBy.contains { $0.missing && $0.hosts == [1] })
        let baseline = try #require(kvm.baseline)
        #expect(baseline.model == "pentium3")
        #expect(baseline.minus.isEmpty)
        #expect(baseline.rule == .usableAsIs)
        #expect(baseline.plus == ["3dnowprefetch", "arat", "arch-capabilities", "clflush", "clflushopt", "clwb", "clzero",
                                  "cmp-legacy", "cr8legacy", "cx16", "fxsr-opt", "lahf-lm", "lm",
                                  "mds-no", "misalignsse", "mmxext", "nx", "osvw", "pschange-mc-no", "rdctl-no",
                                  "skip-l1dfl-vmentry", "sse2", "syscall", "tsc-adjust", "tsc-deadline", "umip", "xsaveerptr"])
        // KVM paravirtual features are not CPU model features: kept apart, left to each platform.
        #expect(baseline.paravirtual == ["kvm-asyncpf-int", "kvm-poll-control", "kvm-pv-ipi", "kvm-pv-sched-yield",
                                         "kvm-pv-tlb-flush", "kvm-pv-unhalt"])
        #expect(baseline.runsEverywhere)
        #expect(baseline.cpuString.hasPrefix("pentium3,+3dnowprefetch,+arat,"))
        // libvirt's spellings; KVM paravirtual features are not libvirt CPU features.
        let xml = baseline.libvirtXML
        #expect(xml.hasPrefix("<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>pentium3</model>\n"))
        for name in ["lahf_lm", "cmp_legacy", "tsc_adjust", "fxsr_opt", "x2apic"].dropLast() {
            #expect(xml.contains("<feature policy='require' name='\(name)'/>"), "\(name)")
        }
        #expect(!xml.contains("name='lahf-lm'") && !xml.contains("kvm"))
        #expect(report.satisfied)
        #expect(try await CompareTestSupport.schemaErrors(report.json, schema: "baseline-report") == nil)
    }

    @Test("under TCG: Westmere has the most shared features of the models both run as they are")
    func recordedTCG() async throws {
        let report = try FleetBaseline.compute(hosts: try await Self.recordedFleet(), accelerators: ["tcg"], rule: .usableAsIs)
        let tcg = report.accelerators[0]
        #expect(tcg.models.filter(\.usableEverywhere).count == 38)
        #expect(tcg.shared.count == 74)
        let baseline = try #require(tcg.baseline)
        #expect(baseline.model == "Westmere")
        #expect(baseline.plus.contains("avx2") && baseline.plus.contains("svm") && !baseline.plus.contains("sse4.1"))
        #expect(baseline.minus.isEmpty)
        // Haswell: 10.0 cannot give pcid/tsc-deadline/hle/invpcid/rtm; 7.2 also lacks x2apic.
        let haswell = try #require(tcg.models.first { $0.name == "Haswell" })
        #expect(Set(haswell.blockedBy.map(\.blockers)) == [["hle", "invpcid", "pcid", "rtm", "tsc-deadline"],
                                                          ["hle", "invpcid", "pcid", "rtm", "tsc-deadline", "x2apic"]])
    }

    @Test("libvirt's 2.11 and 4.2 with this machine's 7.2 and 10.0 under KVM",
          .enabled(if: ProberTestSupport.libvirtCorpus != nil, "../shared/corpus/libvirt is absent"))
    func withLibvirtCorpus() async throws {
        let corpus = try #require(ProberTestSupport.libvirtCorpus)
        let hosts = [try await CompareTestSupport.host("\(corpus)/caps_2.11.0.x86_64.replies"),
                     try await CompareTestSupport.host("\(corpus)/caps_4.2.0.x86_64.replies")] + (try await Self.recordedFleet())
        let report = try FleetBaseline.compute(hosts: hosts)
        #expect(report.accelerators.map(\.name) == ["kvm", "tcg"])
        let kvm = report.accelerators[0]
        #expect(kvm.models.filter(\.usableEverywhere).map(\.name) == ["max", "host", "base", "pentium3", "pentium2", "pentium", "486"])
        // Usable on libvirt's Intel hosts; this host masks pni from KVM guests.
        let qemu64 = try #require(kvm.models.first { $0.name == "qemu64" })
        #expect(qemu64.usableCount == 2)
        #expect(qemu64.blockedBy == [.init(hosts: [2, 3], missing: false, blockers: ["pni"], unknown: false)])
        // EPYC on 2.11 and 4.2 (their own unavailable-features, read from the .replies).
        let epyc = try #require(kvm.models.first { $0.name == "EPYC" })
        #expect(epyc.blockedBy.contains(.init(hosts: [0], missing: false,
                                              blockers: ["cr8legacy", "fxsr-opt", "misalignsse", "mmxext", "osvw", "sha-ni", "sse4a"], unknown: false)))
        #expect(epyc.blockedBy.contains(.init(hosts: [1], missing: false,
                                              blockers: ["cr8legacy", "fxsr-opt", "ibpb", "misalignsse", "mmxext", "npt", "nrip-save", "osvw", "sha-ni", "sse4a"], unknown: false)))
        let versioned = try #require(kvm.models.first { $0.name == "Skylake-Server-v1" })
        #expect(versioned.blockedBy.contains { $0.missing && $0.hosts == [0] })
        // The four host models share 43 features: 2.11's CPU options (check, l3-cache, ...) are not among them.
        #expect(kvm.shared.count == 43)
        #expect(kvm.shared.contains("lahf-lm") && kvm.shared.contains("x2apic") && !kvm.shared.contains("clzero"))
        let baseline = try #require(kvm.baseline)
        // libvirt's recorded probes expand no model: libvirt's rule cannot be applied, the usable-as-is one is.
        #expect(baseline.rule == .usableAsIs)
        #expect(kvm.notes.contains { $0.hasPrefix("no model is expanded by every host") })
        #expect(baseline.cpuString == "pentium3,+3dnowprefetch,+arat,+clflush,+clflushopt,+cx16,+lahf-lm,+lm,+nx,+sse2,+syscall,+tsc-adjust,+tsc-deadline,+umip")
        #expect(baseline.paravirtual == ["kvm-pv-tlb-flush", "kvm-pv-unhalt"])
        #expect(kvm.notes.contains { $0.contains("taken from the 2 host(s) that expanded it") })
        #expect(try await CompareTestSupport.schemaErrors(report.json, schema: "baseline-report") == nil)
        let text = BaselineTextReport.render(report)
        #expect(text.contains("\n  qemu64                     blocked on 2/4: pni (qemu-10.0, qemu-7.2)\n"))
        #expect(text.contains("baseline -cpu: pentium3,+3dnowprefetch"))
    }

    @Test("--model: asked models only; exit status follows them")
    func askedModels() async throws {
        let hosts = try await Self.recordedFleet()
        let good = try FleetBaseline.compute(hosts: hosts, accelerators: ["tcg"], models: ["qemu64", "Westmere"])
        #expect(good.accelerators[0].models.map(\.name) == ["qemu64", "Westmere"])
        #expect(good.satisfied)
        let bad = try FleetBaseline.compute(hosts: hosts, accelerators: ["tcg"], models: ["Haswell", "NoSuchModel"])
        #expect(!bad.satisfied)
        let none = try #require(bad.accelerators[0].models.first { $0.name == "NoSuchModel" })
        #expect(none.blockedBy == [.init(hosts: [0, 1], missing: true, blockers: [], unknown: false)])
    }
}
