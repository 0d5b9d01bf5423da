import FaultInjection
import Foundation
import Prober
import QMP
import Testing

/// `probe --against`'s references: a `probe --json` result gives the `added`/`removed` its raw recording gives.
///
/// Each test replays several whole probes (seconds of CPU): it runs alone in a child copy of the test binary
/// (``IsolatedTest``), so that it does not hold this process's few cooperative threads from the tests whose fake
/// servers wait a few seconds at most.
struct ProbeAgainstTests {
    static func alone(_ name: String, _ body: () async throws -> Void) async throws {
        guard let outcome = try await IsolatedTest.run("ProbeAgainstTests.\(name)", filter: "ProberTests.ProbeAgainstTests/\(name)\\(",
                                                       here: body) else { return }
        #expect(IsolatedTest.passed(outcome), "the test failed alone: \(outcome)")
    }

    @Test("QEMU 10.0 under KVM against 7.2's JSON result: the same added/removed as against 7.2's raw recording")
    func jsonResultAsReference() async throws { try await Self.alone("jsonResultAsReference") {
        let old = ProberTestSupport.recorded("qemu-7.2-x86_64-kvm.jsonl")
        let new = ProberTestSupport.recorded("qemu-10.0-x86_64-kvm.jsonl")
        let raw = try #require(try await ProbeRunner(source: .replay(path: old, mode: .matching)).gather().probes.first)
        let fromRecording = try await ProberTestSupport.replay(new, against: ["kvm": ("raw 7.2", raw)])
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("reference-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        try await ProberTestSupport.replay(old).json.serialized().write(toFile: json, atomically: true, encoding: .utf8)
        let references = try await ProbeReference.load(json)
        #expect(references.keys.sorted() == ["kvm"])
        #expect(references["kvm"]?.label == "kvm in QEMU 7.2.22 (\(json))")
        let fromJSON = try await ProberTestSupport.replay(new, against: references)
        let recorded = try #require(fromRecording.accelerators.first)
        let read = try #require(fromJSON.accelerators.first)
        #expect(read.reference == "kvm in QEMU 7.2.22 (\(json))")
        #expect(read.models.map(\.name) == recorded.models.map(\.name))
        for (a, b) in zip(read.models, recorded.models) {
            #expect(a.added == b.added && a.removed == b.removed, "\(a.name)")
        }
        // Hand-checked in the recordings: max's static expansion has erms and fsrm false in 7.2, true in 10.0, and
        // gds-no only in 10.0.
        let max = try ProberTestSupport.model(fromJSON, "kvm", "max")
        #expect(max.added == ["amd-psfd", "erms", "fsrm", "gds-no", "kvm-asyncpf-vmexit", "lfence-always-serializing",
                              "overflow-recov", "rfds-no", "succor"])
        #expect(max.removed == [])
    } }

    @Test("a recording and a libvirt .replies file give one reference per accelerator they hold")
    func recordingAndReplies() async throws { try await Self.alone("recordingAndReplies") {
        let tcg = ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl")
        #expect(try await ProbeReference.load(tcg).mapValues(\.label) == ["tcg": "tcg in QEMU 7.2.22 (\(tcg))"])
        let corpus = try #require(ProberTestSupport.libvirtCorpus)
        let replies = corpus + "/caps_4.2.0.x86_64.replies"
        #expect(try await ProbeReference.load(replies).mapValues(\.label)
                == ["kvm": "kvm in QEMU 4.2.0 (\(replies))", "tcg": "tcg in QEMU 4.2.0 (\(replies))"])
    } }
}
