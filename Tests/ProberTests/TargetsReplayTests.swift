import Foundation
import Prober
import QMP
import Testing

/// The other targets offline: the recorded s390x and aarch64 probes of Debian's QEMU 7.2 under TCG, libvirt's
/// KVM sessions of both, and QEMU's recorded comparisons and baselines. Every expected value below was read by
/// hand from the recordings (`recorded-sessions/`) and libvirt's `.xml`.
struct TargetsReplayTests {
    static let s390x = ProberTestSupport.recorded("qemu-7.2-s390x-tcg.jsonl")
    static let aarch64 = ProberTestSupport.recorded("qemu-7.2-aarch64-tcg.jsonl")

    /// A recording in `recorded-sessions/comparisons/`.
    static func comparison(_ name: String) -> String { ProberTestSupport.recorded("comparisons/" + name) }

    /// Runs `body` with a client replaying `path` (matching mode).
    static func withReplay<R>(_ path: String, _ body: (QMPClient) async throws -> R) async throws -> R {
        let session = try #require(try RecordingLoader.load(path: path).first)
        let client = QMPClient()
        try await client.connect(using: ReplayTransport(session: session, mode: .matching))
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    // MARK: s390x

    @Test("s390x 7.2 under TCG: 78 models, these 10 usable, no aliases, started with -machine none")
    func s390xModels() async throws {
        let header = try #require(try RecordingLoader.load(path: Self.s390x).first).header
        #expect(header.arch == "s390x")
        #expect(header.arguments?.contains("none") == true && header.arguments?.contains("tcg") == true)
        let report = try await ProberTestSupport.replay(Self.s390x)
        #expect(report.version.description == "7.2.22")
        #expect(report.arch == "s390x")
        let tcg = try #require(report.accelerators.first)
        #expect(tcg.name == "tcg")
        #expect(tcg.models.count == 78)
        #expect(tcg.models.allSatisfy { $0.aliasOf == nil && $0.usable != nil })
        #expect(Set(tcg.models.filter { $0.usable == true }.map(\.name))
                == ["z800-base", "z900.3-base", "z900.2-base", "z900", "z900.3", "max", "z800", "z900-base", "z900.2", "qemu"])
        #expect(tcg.notes.isEmpty, "\(tcg.notes)")
    }

    @Test("s390x host model: max -> gen15a-base by one static expansion (17 on, 30 off), no migratability")
    func s390xHostModel() async throws {
        let report = try await ProberTestSupport.replay(Self.s390x)
        let host = try #require(report.accelerators.first?.hostModel)
        #expect(host.name == "max")
        #expect(host.model == "gen15a-base")
        #expect(host.method == "static")
        #expect(host.props.count == 47)
        #expect(host.props.filter { $0.value.boolValue == true }.count == 17)
        #expect(host.props["vxeh2"]?.boolValue == true && host.props["sea_esop2"]?.boolValue == true)
        #expect(host.props["dfp"]?.boolValue == false)
        #expect(!host.migratabilityKnown && host.marks.isEmpty)
        #expect(host.migratable == ["aefsi", "aen", "ais", "esop", "iep", "kimd-sha-512", "klmd-sha-512", "msa3-base",
                                    "msa4-base", "msa5-base", "msa8-base", "prno-trng", "sea_esop2", "vx", "vxeh",
                                    "vxeh2", "zpci"])
    }

    @Test("s390x features come from the full expansion (the static one is only the change against -base)")
    func s390xFeatures() async throws {
        let report = try await ProberTestSupport.replay(Self.s390x)
        // z900: its static expansion is the bare z900-base; the full one turns on these three.
        let z900 = try ProberTestSupport.model(report, "tcg", "z900")
        #expect(z900.enabled == ["esan3", "plo", "zarch"])
        // z14: 30 features on in the static expansion (the change), 81 in the full one (QEMU's groups such as msa8
        // stand for their subfunctions).
        let z14 = try ProberTestSupport.model(report, "tcg", "z14")
        #expect(z14.enabled?.count == 81)
        #expect(z14.enabled.map { Set(["zarch", "esan3", "vx", "vxeh", "gs", "msa8", "sea_esop2"]).isSubset(of: $0) } == true)
        #expect(z14.enabled?.contains("msa9") == false)
        // What z14 asks for and TCG cannot give: 144 names, QEMU's order, the first ones crypto subfunctions.
        #expect(z14.usable == false)
        #expect(z14.blockers?.count == 144)
        #expect(z14.blockers?.first == "kma-gcm-eaes-256")
        #expect(z14.blockers?.contains("type") == false)
        // gen16a is a generation beyond TCG's max (gen15a): QEMU says so with the pseudo-feature `type`.
        #expect(try ProberTestSupport.model(report, "tcg", "gen16a-base").blockers?.last == "type")
        #expect(try ProberTestSupport.model(report, "tcg", "max").enabled?.count == 49)
    }

    // MARK: aarch64

    @Test("aarch64 7.2 under TCG: 42 models, usability unknown (one note), max has sve and pauth")
    func aarch64Probe() async throws {
        let report = try await ProberTestSupport.replay(Self.aarch64)
        #expect(report.version.description == "7.2.22")
        #expect(report.arch == "aarch64")
        let tcg = try #require(report.accelerators.first)
        #expect(tcg.models.count == 42)
        #expect(tcg.models.allSatisfy { $0.usable == nil && $0.blockers == nil && $0.dropped == nil })
        #expect(!tcg.models.contains { $0.name == "host" }, "7.2 does not list host without KVM")
        #expect(tcg.notes == ["QEMU does not report unavailable-features on aarch64: which models are usable is unknown"])
        let host = try #require(tcg.hostModel)
        #expect(host.name == "max" && host.model == "max" && host.method == "full")
        #expect(host.props.count == 21)
        #expect(host.props["pauth"]?.boolValue == true && host.props["sve"]?.boolValue == true)
        #expect(host.props["pauth-impdef"]?.boolValue == false)
        let max = try ProberTestSupport.model(report, "tcg", "max")
        #expect(max.enabled?.count == 20)
        #expect(max.enabled.map { Set(["sve", "sve128", "sve2048", "pauth", "aarch64", "pmu"]).isSubset(of: $0) } == true)
        #expect(max.enabled?.contains("pauth-impdef") == false)
        // a64fx: SVE at 128, 256 and 512 bits only; cortex-a57: AArch64 and a PMU; cortex-a9 (32-bit): nothing.
        #expect(try ProberTestSupport.model(report, "tcg", "a64fx").enabled == ["aarch64", "pmu", "sve", "sve128", "sve256", "sve512"])
        #expect(try ProberTestSupport.model(report, "tcg", "cortex-a57").enabled == ["aarch64", "pmu"])
        #expect(try ProberTestSupport.model(report, "tcg", "cortex-a9").enabled == [])
        #expect(try await ProberTestSupport.schemaErrors(report.json) == nil)
    }

    // MARK: libvirt's KVM sessions

    @Test("libvirt's KVM sessions: s390x host -> gen15a-base (static), aarch64 host (full) with kvm-steal-time",
          .enabled(if: ProberTestSupport.libvirtCorpus != nil, "../shared/corpus/libvirt is absent"))
    func libvirtKVMHostModels() async throws {
        let corpus = try #require(ProberTestSupport.libvirtCorpus)
        let s390x = try await ProberTestSupport.replay(corpus + "/caps_6.0.0.s390x.replies")
        let s390xKVM = try #require(s390x.accelerators.first { $0.name == "kvm" }?.hostModel)
        #expect(s390xKVM.name == "host" && s390xKVM.model == "gen15a-base" && s390xKVM.method == "static")
        #expect(try #require(s390x.accelerators.first { $0.name == "tcg" }?.hostModel).model == "z13.2-base")
        let aarch64 = try await ProberTestSupport.replay(corpus + "/caps_6.2.0.aarch64.replies")
        let arm = try #require(aarch64.accelerators.first { $0.name == "kvm" }?.hostModel)
        #expect(arm.name == "host" && arm.model == "host" && arm.method == "full")
        #expect(arm.props["kvm-steal-time"]?.boolValue == true)
        #expect(arm.props["sve"]?.boolValue == false)
        #expect(arm.migratable == ["aarch64", "kvm-steal-time", "pmu"])
    }

    // MARK: feature names

    @Test("feature aliases are x86's only: sse3 is pni on x86_64, itself on s390x, aarch64 and unknown targets")
    func aliasesPerTarget() {
        #expect(FeatureNames(canonical: ["pni", "nx"], arch: "x86_64").canonical("sse3") == "pni")
        #expect(FeatureNames(arch: "i386").canonical("xd") == "nx")
        for arch in ["s390x", "aarch64", nil] as [String?] {
            let names = FeatureNames(canonical: ["sea_esop2", "sve128"], arch: arch)
            #expect(names.canonical("sse3") == "sse3")
            #expect(names.canonical("xd") == "xd")
            #expect(names.canonical("sea-esop2") == "sea_esop2")
            #expect(names.aliases.isEmpty)
        }
    }

    @Test("the target of a binary comes from its name; KVM runs only the host's own target")
    func targetOfBinary() {
        #expect(QEMUTarget.arch(ofBinary: "/usr/bin/qemu-system-s390x") == "s390x")
        #expect(QEMUTarget.arch(ofBinary: ".qemu-backports/bin/qemu-system-x86_64") == "x86_64")
        #expect(QEMUTarget.arch(ofBinary: "/usr/libexec/qemu-kvm") == nil)
        #expect(QEMUTarget.arch(ofBinary: "qemu-system-") == nil)
        #expect(QEMUTarget(arch: "x86_64").runsUnderKVM(hostArch: "x86_64", kvmUsable: true))
        #expect(QEMUTarget(arch: "i386").runsUnderKVM(hostArch: "x86_64", kvmUsable: true))
        #expect(!QEMUTarget(arch: "x86_64").runsUnderKVM(hostArch: "x86_64", kvmUsable: false))
        #expect(!QEMUTarget(arch: "s390x").runsUnderKVM(hostArch: "x86_64", kvmUsable: true))
        #expect(!QEMUTarget(arch: "aarch64").runsUnderKVM(hostArch: "x86_64", kvmUsable: true))
        #expect(QEMUTarget(arch: "aarch64").runsUnderKVM(hostArch: "aarch64", kvmUsable: true))
        #expect(!QEMUTarget(arch: nil).runsUnderKVM(hostArch: "x86_64", kvmUsable: true))
    }

    // MARK: QEMU's comparison and baseline

    @Test("QEMU compares z13 with z14: a subset, the generation (type) and 14 features responsible")
    func comparisonSubset() async throws {
        let verdict = try await Self.withReplay(Self.comparison("qemu-7.2-s390x-compare-z13-z14.jsonl")) { client in
            try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "z13"), b: CPUModelInfo(name: "z14"))
        }
        #expect(verdict.result == .subset)
        #expect(verdict.responsibleProperties == ["mepoch", "vxeh", "vxpd", "gs", "iep", "tsi", "sema", "minste2", "eec",
                                                 "opc", "mepochptff", "msa8", "msa7", "msa6", "type"])
        #expect(verdict.summary == "z13 is a subset of z14")
        #expect(verdict.json["result"] == "subset")
    }

    @Test("QEMU's other verdicts: gen15a vs z14 incompatible; z14 vs z14 without vx a superset, vx responsible")
    func comparisonOthers() async throws {
        let incompatible = try await Self.withReplay(Self.comparison("qemu-7.2-s390x-compare-gen15a-z14.jsonl")) { client in
            try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "gen15a"), b: CPUModelInfo(name: "z14"))
        }
        #expect(incompatible.result == .incompatible)
        #expect(incompatible.responsibleProperties == ["bpb", "csske", "etoken", "vxpdeh", "vxeh2", "minste3", "deflate",
                                                       "msa9_pckmo", "msa9", "type"])
        let b = try CPUModelInfo(parsing: "z14,vx=off")
        let superset = try await Self.withReplay(Self.comparison("qemu-7.2-s390x-compare-z14-z14-vx-off.jsonl")) { client in
            try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "z14"), b: b)
        }
        #expect(superset.result == .superset)
        #expect(superset.responsibleProperties == ["vx"])
        #expect(superset.meaning == "a guest of z14,vx=off runs where z14 is offered; not necessarily the other way")
    }

    @Test("QEMU's baselines: z13 and z14 give z13-base with 21 features; z14 and gen15a give z14-base without csske")
    func baselines() async throws {
        let older = try await Self.withReplay(Self.comparison("qemu-7.2-s390x-baseline-z13-z14.jsonl")) { client in
            try await QEMUModelBaseline.baseline(client: client, a: CPUModelInfo(name: "z13"), b: CPUModelInfo(name: "z14"))
        }
        #expect(older.model.name == "z13-base")
        #expect(older.model.props.count == 21 && older.model.props.allSatisfy { $0.value.boolValue == true })
        #expect(older.model.props["vx"]?.boolValue == true && older.model.props["gs"] == nil)
        let newer = try await Self.withReplay(Self.comparison("qemu-7.2-s390x-baseline-z14-gen15a.jsonl")) { client in
            try await QEMUModelBaseline.baseline(client: client, a: CPUModelInfo(name: "z14"), b: CPUModelInfo(name: "gen15a"))
        }
        #expect(newer.model.name == "z14-base")
        #expect(newer.model.props["csske"]?.boolValue == false)
        #expect(newer.model.props["gs"]?.boolValue == true)
        #expect(newer.json["model"]?["name"] == "z14-base")
    }

    @Test("aarch64 has no comparison: a typed error naming the target, not a QEMU failure")
    func aarch64HasNoComparison() async throws {
        let error = try await Self.withReplay(Self.comparison("qemu-7.2-aarch64-compare-max-cortex-a57.jsonl")) { client in
            await #expect(throws: QEMUModelQueryError.self) {
                try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "max"), b: CPUModelInfo(name: "cortex-a57"))
            }
        }
        #expect(error == .unsupported(command: "query-cpu-model-comparison", target: "aarch64"))
        #expect(error?.description.contains("s390x only") == true)
    }

    @Test("a host model from a probe report is what QEMU is asked about (name and props as expanded)")
    func hostModelAsComparisonInput() async throws {
        let report = try await ProberTestSupport.replay(Self.s390x)
        let host = try #require(report.accelerators.first?.hostModel)
        let info = CPUModelInfo(hostModel: host)
        #expect(info.name == "gen15a-base")
        #expect(info.props == host.props)
        #expect(info.json["props"]?["vxeh2"] == true)
    }
}
