import Foundation
import Prober
import QMP
import Testing

/// The seed scenario offline: a guest CPU realized by QEMU 10.0 checked against QEMU 7.2 and the other way round,
/// under KVM and TCG, from the recordings of both QEMUs on this machine. Every expected blocker was read by hand
/// from the two QEMUs' `unavailable-features` and host models (the `query-cpu-definitions` and host `static`
/// expansion replies in recorded-sessions/).
struct CompareRecordedTests {
    static func compare(_ src: String, _ dst: String, accel: [String]? = nil, cpu: CPUSpec? = nil) async throws -> CompareReport {
        try CompareReport.compute(source: try await CompareTestSupport.recordedHost(src),
                                  destination: try await CompareTestSupport.recordedHost(dst), accelerators: accel, cpu: cpu)
    }

    @Test("KVM, 10.0 guest onto 7.2: erms and fsrm, which 7.2 cannot give on this host, block; new models are missing")
    func kvmNewToOld() async throws {
        let report = try await Self.compare("10.0", "7.2")
        #expect(report.accelerators.map(\.name) == ["kvm", "tcg"])
        #expect(report.compatible == false)
        // 7.2 lists erms among Haswell's unavailable features under KVM, 10.0 does not: the 10.0 guest has erms.
        let haswell = try CompareTestSupport.verdict(report, "kvm", "Haswell")
        #expect(CompareTestSupport.blockers(haswell) == ["erms": .unavailable])
        #expect(haswell.guest?.contains("erms") == true)
        #expect(haswell.filtered.contains("avx2"))  // both hosts lack avx2: filtered on SRC, not a blocker
        let milan = try CompareTestSupport.verdict(report, "kvm", "EPYC-Milan")
        #expect(CompareTestSupport.blockers(milan) == ["erms": .unavailable, "fsrm": .unavailable])
        // EPYC's unavailable features are the same in both QEMUs.
        #expect(try CompareTestSupport.verdict(report, "kvm", "EPYC").compatible)
        let sapphire = try CompareTestSupport.verdict(report, "kvm", "SapphireRapids")
        #expect(sapphire.modelMissing && sapphire.blockers.isEmpty && !sapphire.compatible)
        // KVM adds x2apic to qemu64 (against TCG in the same QEMU); 7.2 gives it too.
        let qemu64 = try CompareTestSupport.verdict(report, "kvm", "qemu64")
        #expect(qemu64.compatible)
        #expect(qemu64.added?.contains("x2apic") == true)
        // The host model: features 7.2 does not know, added by 10.0's KVM, and host features 7.2's host model lacks.
        let max = CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "kvm", "max"))
        #expect(max["amd-psfd"] == .unknownFeature)
        #expect(max["erms"] == .notInHostModel && max["fsrm"] == .notInHostModel)
        let psfd = try CompareTestSupport.verdict(report, "kvm", "max").blockers.first { $0.feature == "amd-psfd" }
        #expect(psfd?.addedBySource == true)
        let kvm = report.accelerators[0].verdicts
        #expect(kvm.count == 154)
        #expect(kvm.filter(\.modelMissing).count == 22)
        #expect(kvm.filter(\.compatible).count == 64)
        #expect(report.accelerators[0].sourceReference == "tcg in the same QEMU")
    }

    @Test("KVM, 7.2 guest onto 10.0: every model is compatible")
    func kvmOldToNew() async throws {
        let report = try await Self.compare("7.2", "10.0", accel: ["kvm"])
        let verdicts = report.accelerators[0].verdicts
        #expect(verdicts.count == 132)
        #expect(verdicts.allSatisfy { $0.compatible }, "\(verdicts.filter { !$0.compatible }.map(\.model))")
    }

    @Test("TCG, 10.0 guest onto 7.2: x2apic (TCG has it from 9.0) and 3dnowprefetch, rdseed, sha-ni block")
    func tcgNewToOld() async throws {
        let report = try await Self.compare("10.0", "7.2", accel: ["tcg"])
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "tcg", "Haswell")) == ["x2apic": .unavailable])
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "tcg", "Skylake-Client-v4"))
                == ["3dnowprefetch": .unavailable, "rdseed": .unavailable, "x2apic": .unavailable])
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "tcg", "EPYC"))
                == ["3dnowprefetch": .unavailable, "rdseed": .unavailable, "sha-ni": .unavailable])
        #expect(try CompareTestSupport.verdict(report, "tcg", "qemu64").compatible)
        let max = CompareTestSupport.blockers(try CompareTestSupport.verdict(report, "tcg", "max"))
        #expect(max["x2apic"] == .notInHostModel)
        #expect(max["cmpccxadd"] == .unknownFeature)
        #expect(report.accelerators[0].sourceReference == nil)
    }

    @Test("TCG, 7.2 guest onto 10.0: only max and host, by pcommit (dropped from TCG after 7.2)")
    func tcgOldToNew() async throws {
        let report = try await Self.compare("7.2", "10.0", accel: ["tcg"])
        let blocked = report.accelerators[0].verdicts.filter { !$0.compatible }
        #expect(blocked.map(\.model) == ["max", "host"])
        for verdict in blocked { #expect(CompareTestSupport.blockers(verdict) == ["pcommit": .notInHostModel]) }
    }

    @Test("each recording against itself is compatible, except YongFeng under KVM: it has invtsc, which never migrates",
          arguments: ["7.2", "10.0"])
    func selfCompare(version: String) async throws {
        let report = try await Self.compare(version, version)
        for accelerator in report.accelerators {
            for verdict in accelerator.verdicts where !verdict.compatible {
                let invtsc = verdict.model.hasPrefix("YongFeng") && accelerator.name == "kvm"
                    && CompareTestSupport.blockers(verdict) == ["invtsc": .notMigratable]
                #expect(invtsc, "\(accelerator.name) \(verdict.model): \(verdict.blockers)")
            }
        }
        let yongFeng = report.accelerators[0].verdicts.filter { $0.model.hasPrefix("YongFeng") }
        #expect(yongFeng.count == (version == "10.0" ? 3 : 0))
        #expect(yongFeng.allSatisfy { !$0.compatible })
    }

    @Test("--cpu: +x2apic from 10.0's TCG blocks on 7.2; from 7.2 it is filtered at the source and migrates")
    func cpuSwitches() async throws {
        let spec = try CPUSpec.parse("qemu64,+x2apic")
        let forward = try await Self.compare("10.0", "7.2", accel: ["tcg"], cpu: spec)
        let blocked = try CompareTestSupport.verdict(forward, "tcg", "qemu64")
        #expect(CompareTestSupport.blockers(blocked) == ["x2apic": .notInHostModel])
        #expect(blocked.spec == "qemu64,+x2apic")
        #expect(forward.accelerators[0].verdicts.count == 1)
        let backward = try await Self.compare("7.2", "10.0", accel: ["tcg"], cpu: spec)
        let filtered = try CompareTestSupport.verdict(backward, "tcg", "qemu64")
        #expect(filtered.compatible)
        #expect(filtered.filtered == ["x2apic"])
        #expect(filtered.guest?.contains("x2apic") == false)
        // 7.2's TCG max has pcommit, 10.0's does not.
        let pcommit = try await Self.compare("7.2", "10.0", accel: ["tcg"], cpu: try CPUSpec.parse("Haswell,+pcommit"))
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(pcommit, "tcg", "Haswell")) == ["pcommit": .notInHostModel])
        // Switching the blocker off makes the guest fit.
        let off = try await Self.compare("10.0", "7.2", accel: ["kvm"], cpu: try CPUSpec.parse("Haswell,erms=off"))
        #expect(try CompareTestSupport.verdict(off, "kvm", "Haswell").compatible)
    }

    @Test("--domain: libvirt's <cpu> with feature policies, libvirt spellings translated")
    func domainXML() async throws {
        let xml = """
            <domain type='kvm'><name>guest</name>
              <cpu mode='custom' match='exact' check='partial'>
                <model fallback='forbid'>Haswell</model>
                <feature policy='disable' name='erms'/>
                <feature policy='require' name='pclmuldq'/>
                <feature policy='optional' name='lahf_lm'/>
              </cpu>
            </domain>
            """
        let spec = try CPUSpec.parseDomainXML(Data(xml.utf8), source: "guest.xml")
        #expect(spec.model == "Haswell")
        #expect(spec.requests == ["erms": .off, "pclmulqdq": .on, "lahf-lm": .optional])
        let report = try await Self.compare("10.0", "7.2", accel: ["kvm"], cpu: spec)
        let verdict = try CompareTestSupport.verdict(report, "kvm", "Haswell")
        #expect(verdict.compatible)
        // This host masks pclmulqdq from KVM guests: required, but filtered at the source.
        #expect(verdict.filtered.contains("pclmulqdq"))
        #expect(verdict.guest?.contains("lahf-lm") == true)
        let plain = try CPUSpec.parseDomainXML(Data("<cpu><model>Haswell</model></cpu>".utf8), source: "cpu.xml")
        let blocked = try await Self.compare("10.0", "7.2", accel: ["kvm"], cpu: plain)
        #expect(CompareTestSupport.blockers(try CompareTestSupport.verdict(blocked, "kvm", "Haswell")) == ["erms": .unavailable])
    }

    @Test("probe JSON read back gives the same verdicts as the recordings, and both reports follow their schemas")
    func jsonRoundTrip() async throws {
        let directory = try PrivateDirectory()
        var arguments: [String] = []
        for version in ["10.0", "7.2"] {
            let host = try await CompareTestSupport.recordedHost(version)
            let path = directory.path + "/qemu-\(version).json"
            try host.report.json.serialized().write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try await ProberTestSupport.schemaErrors(host.report.json) == nil)
            arguments.append(path)
        }
        let fromJSON = try CompareReport.compute(source: try await HostResultLoader.load(arguments[0]),
                                                 destination: try await HostResultLoader.load(arguments[1]))
        let fromRecordings = try await Self.compare("10.0", "7.2")
        #expect(fromJSON.accelerators.map(\.name) == fromRecordings.accelerators.map(\.name))
        for (json, recorded) in zip(fromJSON.accelerators, fromRecordings.accelerators) {
            #expect(json.verdicts == recorded.verdicts)
        }
        #expect(fromJSON.source.label == "qemu-10.0")
        #expect(try await CompareTestSupport.schemaErrors(fromJSON.json, schema: "compare-report") == nil)
        let single = try await Self.compare("10.0", "7.2", accel: ["tcg"], cpu: try CPUSpec.parse("qemu64,+x2apic"))
        #expect(try await CompareTestSupport.schemaErrors(single.json, schema: "compare-report") == nil)
        // The schema does reject a wrong report.
        var broken = fromJSON.json.objectValue!
        broken["compatible"] = "no"
        #expect(try await CompareTestSupport.schemaErrors(.object(broken), schema: "compare-report") != nil)
    }

    @Test("the text output names the blockers and the result")
    func text() async throws {
        let report = try await Self.compare("10.0", "7.2", accel: ["tcg"])
        let text = CompareTextReport.render(report)
        #expect(text.contains("== tcg: 154 models, 45 compatible, 109 blocked (22 missing on DST)"))
        // QEMU 7.2 has no YongFeng (QEMU 8.1 added it).
        #expect(text.contains("\nYongFeng                   BLOCKED     model missing on DST\n"))
        let haswell = text.split(separator: "\n").first { $0.hasPrefix("Haswell ") }
        #expect(haswell?.hasSuffix("BLOCKED     DST's host lacks: x2apic*") == true, "\(haswell ?? "none")")
        #expect(text.hasSuffix("result: BLOCKED (see above)\n"))
    }
}
