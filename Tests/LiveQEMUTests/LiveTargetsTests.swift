import Foundation
import Prober
import QMP
import Testing

/// The other targets' QEMU (Debian's qemu-system-misc and qemu-system-arm): present, or skipped with a message;
/// in CI (environment `CI` set) they must be installed, and a missing one fails the test.
enum LiveTargets {
    /// `qemu-system-ARCH` on `PATH`, or nil.
    static func binary(_ arch: String) -> String? { try? QEMUBinary.locate(arch: arch) }

    /// Whether tests of `arch` run: the binary is installed, or this is CI (where its absence is a failure).
    static func runs(_ arch: String) -> Bool { binary(arch) != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    /// The binary, or a failure saying CI must install it.
    static func require(_ arch: String) throws -> String {
        try #require(binary(arch), "CI must install qemu-system-\(arch) (scripts/install-deps.sh: \(QEMUBinary.debianPackage(for: arch)))")
    }

    /// Runs `body` against a probing QEMU of `arch` under TCG (started with the target's probe arguments).
    static func withTCG<R>(_ arch: String, _ body: (QEMUInstance) async throws -> R) async throws -> R {
        let binary = try require(arch)
        let target = QEMUInstance.target(ofBinary: binary)
        let instance = try await QEMUInstance.start(binary: binary, accelerator: "tcg",
                                                    arguments: QEMUInstance.probeArguments(accelerator: "tcg", target: target))
        return try await LiveQEMU.using(instance, body)
    }
}

/// s390x and aarch64 probed live under TCG, and QEMU's own comparison and baseline asked live.
struct LiveTargetsTests {
    @Test("s390x live under TCG: static host model, blockers for every model, features from the full expansion; replays the same",
          .enabled(if: LiveTargets.runs("s390x"), "qemu-system-s390x is not installed (apt-get install qemu-system-misc)"))
    func s390xProbe() async throws {
        let binary = try LiveTargets.require("s390x")
        let directory = try PrivateDirectory()
        defer { directory.remove() }
        var runner = ProbeRunner(source: .launch(binary: binary, accelerators: ["tcg"]))
        runner.recordPath = directory.path + "/s390x.jsonl"
        let report = try await runner.run()
        #expect(report.arch == "s390x")
        let tcg = try #require(report.accelerators.first)
        #expect(tcg.notes.isEmpty, "\(tcg.notes)")
        #expect(tcg.models.count > 50)
        let host = try #require(tcg.hostModel)
        #expect(host.name == "max" && host.method == "static" && host.model.hasSuffix("-base"))
        #expect(!host.migratabilityKnown)
        for model in tcg.models {
            let blockers = try #require(model.blockers, "\(model.name) has no unavailable-features")
            #expect(model.usable == blockers.isEmpty)
            #expect(model.enabled != nil, "\(model.name) was not expanded")
        }
        #expect(tcg.models.first { $0.name == "max" }?.usable == true)
        let z14 = try #require(tcg.models.first { $0.name == "z14" })
        #expect(z14.enabled.map { Set(["zarch", "esan3", "vx", "gs"]).isSubset(of: $0) } == true)
        // The recording names the target and the machine it was probed with, and replays into the same report.
        let session = try #require(try RecordingLoader.load(path: directory.path + "/s390x.jsonl").first)
        #expect(session.header.arch == "s390x")
        #expect(session.header.arguments?.contains("none") == true)
        let replayed = try await ProbeRunner(source: .replay(path: directory.path + "/s390x.jsonl", mode: .matching)).run()
        #expect(replayed.accelerators.first?.models == tcg.models)
        #expect(replayed.accelerators.first?.hostModel == host)
    }

    @Test("aarch64 live under TCG: full expansion of max with sve and pauth; usability unknown, said in one note",
          .enabled(if: LiveTargets.runs("aarch64"), "qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)"))
    func aarch64Probe() async throws {
        let binary = try LiveTargets.require("aarch64")
        let report = try await ProbeRunner(source: .launch(binary: binary, accelerators: ["tcg"])).run()
        #expect(report.arch == "aarch64")
        let tcg = try #require(report.accelerators.first)
        #expect(tcg.notes == ["QEMU does not report unavailable-features on aarch64: which models are usable is unknown"])
        #expect(tcg.models.count > 30)
        #expect(tcg.models.allSatisfy { $0.usable == nil && $0.enabled != nil })
        let host = try #require(tcg.hostModel)
        #expect(host.name == "max" && host.model == "max" && host.method == "full")
        let max = try #require(tcg.models.first { $0.name == "max" })
        #expect(max.enabled.map { Set(["sve", "sve128", "pauth", "aarch64"]).isSubset(of: $0) } == true)
        let a57 = try #require(tcg.models.first { $0.name == "cortex-a57" })
        #expect(a57.enabled?.contains("aarch64") == true && a57.enabled?.contains("sve") == false)
    }

    @Test("aarch64: the host model needs KVM; QEMU's refusal becomes a note, not a failure",
          .enabled(if: LiveTargets.runs("aarch64"), "qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)"))
    func aarch64HostNeedsKVM() async throws {
        try await LiveTargets.withTCG("aarch64") { qemu in
            // Asked as if under KVM, the gatherer expands `host`: TCG's QEMU refuses it.
            var gatherer = ProbeGatherer(client: qemu.client, accelerator: "kvm")
            gatherer.onlyModels = ["cortex-a57"]
            let probe = try await gatherer.gather()
            #expect(probe.hostModel == nil)
            #expect(probe.notes.contains { $0.contains("host model 'host'") && $0.contains("requires KVM") }, "\(probe.notes)")
            #expect(probe.expansions["cortex-a57"]?.fullExpansion?.props["aarch64"] == true)
        }
    }

    @Test("QEMU's comparison and baseline of s390x models, live; a host model from a probe compares as max does",
          .enabled(if: LiveTargets.runs("s390x"), "qemu-system-s390x is not installed (apt-get install qemu-system-misc)"))
    func s390xComparison() async throws {
        let binary = try LiveTargets.require("s390x")
        let probe = try await ProbeRunner(source: .launch(binary: binary, accelerators: ["tcg"])).run()
        let host = try #require(probe.accelerators.first?.hostModel)
        let session = ModelQuerySession(source: .launch(binary: binary, accelerator: "tcg"))
        try await session.run { client in
            let verdict = try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "z13"), b: CPUModelInfo(name: "z14"))
            #expect(verdict.result == .subset)
            #expect(verdict.responsibleProperties.contains("type") && verdict.responsibleProperties.contains("gs"))
            let reverse = try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "z14"), b: CPUModelInfo(name: "z13"))
            #expect(reverse.result == .superset)
            #expect(Set(reverse.responsibleProperties) == Set(verdict.responsibleProperties))
            let same = try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "z14"), b: CPUModelInfo(name: "z14"))
            #expect(same.result == .identical && same.responsibleProperties.isEmpty)
            // The static host model (a -base model and its changes) is the same CPU as max.
            let expanded = try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(hostModel: host),
                                                                 b: CPUModelInfo(name: "max"))
            #expect(expanded.result == .identical)
            let baseline = try await QEMUModelBaseline.baseline(client: client, a: CPUModelInfo(name: "z13"), b: CPUModelInfo(name: "z14"))
            #expect(baseline.model.name == "z13-base")
            #expect(baseline.model.props["vx"] == true)
            // QEMU's refusals are typed, with QEMU's words.
            let unknown = await #expect(throws: QEMUModelQueryError.self) {
                try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "no-such-cpu"), b: CPUModelInfo(name: "z14"))
            }
            guard case .refused(_, let errorClass, let description)? = unknown else {
                Issue.record("expected refused, got \(String(describing: unknown))")
                return
            }
            #expect(errorClass == "GenericError" && description.contains("no-such-cpu"))
            let noCommon = await #expect(throws: QEMUModelQueryError.self) {
                try await QEMUModelBaseline.baseline(client: client, a: try CPUModelInfo(parsing: "z900,esan3=off"), b: CPUModelInfo(name: "z14"))
            }
            #expect(noCommon?.description.contains("No compatible CPU model") == true)
        }
    }

    @Test("targets without comparison say so by name: aarch64 and this machine's QEMU",
          .enabled(if: LiveTargets.runs("aarch64"), "qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)"))
    func unsupportedTargets() async throws {
        var binaries = [try LiveTargets.require("aarch64")]
        if QEMUBinary.hostArch != "s390x", let local = LiveTargets.binary(QEMUBinary.hostArch) { binaries.append(local) }
        for binary in binaries {
            let session = ModelQuerySession(source: .launch(binary: binary, accelerator: "tcg"))
            let error = await #expect(throws: QEMUModelQueryError.self) {
                try await session.run { client in
                    try await QEMUModelBaseline.baseline(client: client, a: CPUModelInfo(name: "max"), b: CPUModelInfo(name: "max"))
                }
            }
            #expect(error == .unsupported(command: "query-cpu-model-baseline", target: QEMUTarget.arch(ofBinary: binary)))
        }
    }
}
