import Foundation
import Prober
import QMP
import Testing

/// The fleet's CPU chosen as libvirt's `hypervisor-cpu-baseline` chooses it, checked on every host, and bad fleets.
/// Fleets: this machine's QEMU 7.2 and 10.0 (recorded-sessions; an AMD EPYC host, family 25 model 1, with a masked
/// CPUID), libvirt's Intel probes of QEMU 2.11 and 4.2 (../shared/corpus/libvirt) and the AMD probes of libvirt
/// 11.3's source package. Expected lists were read from the recordings with a separate Python script (the host
/// models' intersection minus EPYC-Milan-v1's static expansion under KVM on both QEMUs).
struct BaselineRuleTests {
    static func recordedFleet() async throws -> [HostResult] {
        [try await CompareTestSupport.recordedHost("10.0"), try await CompareTestSupport.recordedHost("7.2")]
    }

    @Test("KVM on this AMD host: libvirt's rule picks EPYC-Milan (the hosts' vendor and signature), the missing features disabled")
    func libvirtRuleKVM() async throws {
        let report = try FleetBaseline.compute(hosts: try await Self.recordedFleet(), accelerators: ["kvm"])
        let kvm = report.accelerators[0]
        #expect(kvm.vendor == "AuthenticAMD")
        #expect(kvm.vendorBasis.hasPrefix("the vendor property of every host model"))
        let cpu = try #require(kvm.baseline)
        #expect(cpu.rule == .libvirt)
        #expect(cpu.model == "EPYC-Milan" && cpu.modelVendor == "AuthenticAMD")
        #expect(cpu.plus == ["arch-capabilities", "cmp-legacy", "mds-no", "pschange-mc-no", "rdctl-no", "skip-l1dfl-vmentry",
                             "tsc-adjust", "tsc-deadline"])
        // What this host masks (pni, ssse3, sse4.x, avx...) and what KVM turns off in EPYC-Milan's definition (svm,
        // npt, nrip-save): libvirt compares against its own definition, which has them.
        for feature in ["pni", "ssse3", "sse4.1", "avx2", "svm", "npt", "nrip-save", "svme-addr-chk", "xsaves"] {
            #expect(cpu.minus.contains(feature), "\(feature)")
        }
        #expect(cpu.minus.count == 48)
        #expect(!(cpu.plus + cpu.minus).contains { $0.hasPrefix("kvm") })
        // libvirt's cost: 8 added, and 2 + 3 + ... + 49 for 48 disabled.
        #expect(cpu.cost == 8 + (2...49).reduce(0, +))
        #expect(cpu.runsEverywhere)
        #expect(report.satisfied)
        #expect(try await CompareTestSupport.schemaErrors(report.json, schema: "baseline-report") == nil)
        let text = BaselineTextReport.render(report)
        #expect(text.contains("hosts' vendor: AuthenticAMD (the vendor property of every host model"))
        #expect(text.contains("baseline model: EPYC-Milan (libvirt's rule"))
        #expect(text.contains("baseline runs on every host\n"))
    }

    @Test("the usable-as-is rule stays available and is labelled; under TCG libvirt's rule takes TCG's vendor (QEMU's max: AuthenticAMD)")
    func rules() async throws {
        let hosts = try await Self.recordedFleet()
        let asIs = try FleetBaseline.compute(hosts: hosts, accelerators: ["kvm"], rule: .usableAsIs)
        #expect(asIs.accelerators[0].baseline?.model == "pentium3")
        #expect(BaselineTextReport.render(asIs).contains("baseline model: pentium3 (usable as it is on every host"))
        let tcg = try FleetBaseline.compute(hosts: hosts, accelerators: ["tcg"]).accelerators[0]
        #expect(tcg.vendor == "AuthenticAMD")
        let cpu = try #require(tcg.baseline)
        #expect(CPUVendor.vendor(ofModel: cpu.model) == "AuthenticAMD")
        #expect(cpu.runsEverywhere)
    }

    @Test("an operator's CPU is checked on every host: what each host cannot give, models it lacks, switches its QEMU does not know")
    func operatorCPU() async throws {
        let hosts = try await Self.recordedFleet()
        // EPYC-Milan as it is: this host's KVM masks pni and more, on both QEMUs.
        let bare = try FleetBaseline.compute(hosts: hosts, accelerators: ["kvm"], cpu: try CPUSpec.parse("EPYC-Milan"))
        let checked = try #require(bare.accelerators[0].checked)
        #expect(!checked.runsEverywhere)
        #expect(!bare.satisfied)
        let all = Set(checked.blockedOn.flatMap(\.hosts))
        #expect(all == [0, 1])
        #expect(checked.blockedOn.allSatisfy { $0.cannotGive.contains("pni") && $0.cannotGive.contains("avx2") })
        // The baseline itself, given back as the operator's CPU, runs.
        let baseline = try #require(bare.accelerators[0].baseline)
        let same = try FleetBaseline.compute(hosts: hosts, accelerators: ["kvm"], cpu: try CPUSpec.parse(baseline.cpuString))
        #expect(same.accelerators[0].checked?.runsEverywhere == true)
        #expect(same.satisfied)
        // A model 7.2 lacks, and a switch no QEMU knows.
        let missing = try FleetBaseline.compute(hosts: hosts, accelerators: ["kvm"], cpu: try CPUSpec.parse("SapphireRapids"))
        #expect(missing.accelerators[0].checked?.blockedOn.contains { $0.missingModel && $0.hosts == [1] } == true)
        let unknown = try FleetBaseline.compute(hosts: hosts, accelerators: ["tcg"], cpu: try CPUSpec.parse("qemu64,-nosuchfeature"))
        #expect(unknown.accelerators[0].checked?.blockedOn == [.init(hosts: [0, 1], unknown: ["nosuchfeature"])])
        #expect(try await CompareTestSupport.schemaErrors(missing.json, schema: "baseline-report") == nil)
        let text = BaselineTextReport.render(missing)
        #expect(text.contains("your CPU does NOT run on:\n") && text.contains("\n  qemu-7.2: its QEMU has no model SapphireRapids\n"))
    }

    @Test("mixed vendors: libvirt's Intel hosts with this AMD host: no vendor, said so; an AMD-only corpus fleet keeps AMD",
          .enabled(if: ProberTestSupport.libvirtCorpus != nil, "../shared/corpus/libvirt is absent"))
    func mixedVendors() async throws {
        let corpus = try #require(ProberTestSupport.libvirtCorpus)
        let intel = try await CompareTestSupport.host("\(corpus)/caps_4.2.0.x86_64.replies")
        let mixed = try FleetBaseline.compute(hosts: [intel] + (try await Self.recordedFleet()), accelerators: ["kvm"])
        let kvm = mixed.accelerators[0]
        #expect(kvm.vendor == nil)
        #expect(kvm.vendorBasis.contains("several vendors (AuthenticAMD: qemu-10.0, qemu-7.2; GenuineIntel: caps_4.2.0.x86_64)"))
        #expect(kvm.vendorBasis.contains("CPU vendors do not match"))
        let alone = try FleetBaseline.compute(hosts: [intel], accelerators: ["kvm"]).accelerators[0]
        #expect(alone.vendor == "GenuineIntel")
        // libvirt's probes expand no model: the model usable as it is, of the hosts' vendor.
        #expect(alone.baseline.map { CPUVendor.vendor(ofModel: $0.model) } == "GenuineIntel")
        if LibvirtCorpus.sourcePackage != nil {
            let sessions = try ["caps_9.2.0_x86_64+amdsev", "caps_10.0.0_x86_64"].map { name in
                try #require(LibvirtCorpus.sessions.first { $0.name == name && $0.corpus == "libvirt source package" }, "\(name) is not in the source package's corpus")
            }
            let amd = [try await CompareTestSupport.host("\(sessions[0].folder)/\(sessions[0].name).replies"),
                       try await CompareTestSupport.host("\(sessions[1].folder)/\(sessions[1].name).replies")]
            let both = try FleetBaseline.compute(hosts: amd, accelerators: ["kvm"]).accelerators[0]
            #expect(both.vendor == "AuthenticAMD")
            #expect(both.baseline.map { CPUVendor.vendor(ofModel: $0.model) } == "AuthenticAMD")
            let all = try FleetBaseline.compute(hosts: amd + [intel], accelerators: ["kvm"]).accelerators[0]
            #expect(all.vendor == nil)
        }
    }

    @Test("bad fleets: different architectures, no hosts, a host without a host model")
    func badFleets() async throws {
        let x86 = try await CompareTestSupport.recordedHost("10.0")
        let s390x = try await CompareTestSupport.host(ProberTestSupport.recorded("qemu-7.2-s390x-tcg.jsonl"))
        #expect {
            try FleetBaseline.compute(hosts: [x86, s390x])
        } throws: { "\($0)".contains("the hosts are of different architectures: s390x (qemu-7.2-s390x-tcg), x86_64 (qemu-10.0)") }
        #expect { try FleetBaseline.compute(hosts: []) } throws: { "\($0)".contains("no host results given (an empty fleet)") }
        var blind = x86
        blind.label = "blind"
        blind.report.accelerators[0].hostModel = nil
        #expect {
            try FleetBaseline.compute(hosts: [x86, blind], accelerators: ["kvm"])
        } throws: { "\($0)".hasPrefix("blind has no host model (kvm)") }
    }

    @Test("the model vendor and signature tables agree with QEMU's own definitions (static expansions under TCG, 7.2 and 10.0)")
    func tablesAgreeWithQEMU() async throws {
        var checked = 0
        for version in ["7.2", "10.0"] {
            let (probes, _, _) = try await ProbeRunner(source: .replay(path: ProberTestSupport.recorded("qemu-\(version)-x86_64-tcg.jsonl"), mode: .matching)).gather()
            let probe = try #require(probes.first)
            for definition in probe.definitions ?? [] where !FleetBaseline.notBaselines.contains(definition.name) {
                guard let props = probe.expansions[definition.name]?.staticExpansion?.props else { continue }
                guard case .string(let vendor)? = props["vendor"] else { Issue.record("\(definition.name): no vendor"); continue }
                #expect(CPUVendor.vendor(ofModel: definition.name) == vendor, "\(version) \(definition.name)")
                let signature = CPUModelSignatures.Signature(Int(props["family"]?.int64Value ?? -1), Int(props["model"]?.int64Value ?? -1))
                #expect(CPUModelSignatures.signatures(of: definition.name, aliasOf: definition.aliasOf)?.contains(signature) == true,
                        "\(version) \(definition.name) \(signature)")
                checked += 1
            }
        }
        #expect(checked > 250)
    }
}
