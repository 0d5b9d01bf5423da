import Foundation
import Prober
import QMP
import FaultInjection
import Testing

/// The prober against this machine's real QEMU: the main job, live.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveProbeTests {
    @Test("a live probe of every accelerator, recorded, equals the replay of its recording")
    func liveProbeAndReplay() async throws {
        let directory = try PrivateDirectory()
        var runner = ProbeRunner(source: .launch(binary: nil, accelerators: LiveQEMU.accelerators))
        runner.recordPath = directory.path + "/live.jsonl"
        let report = try await runner.run()
        #expect(report.accelerators.map(\.name) == LiveQEMU.accelerators)
        for accelerator in report.accelerators {
            #expect(accelerator.models.count > 100)
            #expect(accelerator.notes.isEmpty, "\(accelerator.notes)")
            let max = try #require(accelerator.models.first { $0.name == "max" })
            #expect(max.usable == true)
            for model in accelerator.models {
                // dropped is QEMU's unavailable-features without duplicates (QEMU 7.2+ already uses the
                // static expansion's spellings there, so canonicalization changes nothing).
                let blockers = try #require(model.blockers)
                #expect(Set(model.dropped ?? []) == Set(blockers))
                #expect(model.dropped?.count == Set(blockers).count)
                #expect(model.usable == blockers.isEmpty)
            }
        }
        if let kvm = report.accelerators.first(where: { $0.name == "kvm" }) {
            // QEMU 7.2 under KVM turns x2apic on for models that do not ask for it (TCG 7.2 cannot give it).
            let qemu64 = try #require(kvm.models.first { $0.name == "qemu64" })
            #expect(qemu64.added?.contains("x2apic") == true)
            #expect(qemu64.added?.contains("kvmclock") == true)
        }
        // Replaying what was recorded gives the same report.
        let files = LiveQEMU.accelerators.count > 1
            ? LiveQEMU.accelerators.map { directory.path + "/live-\($0).jsonl" } : [directory.path + "/live.jsonl"]
        var probes: [AcceleratorProbe] = []
        for file in files {
            probes += try await ProbeRunner(source: .replay(path: file, mode: .matching)).gather().probes
        }
        let replayed = ProbeReport.compute(probes: probes, source: report.source, binary: report.binary)
        #expect(replayed.json == report.json)
    }

    @Test("--stats: CPU and memory, and the moments of a live probe in order, on stderr; the report still on stdout")
    func statsTimeline() async throws {
        let scratch = try LiveFaultTests.Scratch()
        let cli = try Subprocess(try LiveFaultTests.qmpProbe(), ["probe", "--accel", "tcg", "--no-cache", "--json", "--stats"],
                                 environment: scratch.environment)
        let result = await cli.wait(timeout: .seconds(120))
        #expect(result.exitStatus == 0, "\(result)")
        #expect((try? JSON.parse(Array(result.stdout.utf8)))?["accelerators"]?["tcg"] != nil, "\(result)")
        let lines = result.stderr.split(separator: "\n")
        let stats = try #require(lines.first { $0.hasPrefix("qmp-probe stats: ") }, "\(result)")
        for field in ["wall=", "cpu=", "peak_rss=", "qemu_cpu=", "qemu_peak_rss="] { #expect(stats.contains(field), "\(stats)") }
        let timeline = try #require(lines.first { $0.hasPrefix("qmp-probe timeline: ") }, "\(result)")
        let marks: [(event: String, ms: Double?)] = timeline.dropFirst("qmp-probe timeline: ".count).split(separator: " ").map { mark in
            let parts = mark.split(separator: "=")
            return (event: String(parts[0]), ms: parts.count == 2 && parts[1].hasSuffix("ms") ? Double(parts[1].dropLast(2)) : nil)
        }
        #expect(marks.map(\.event) == ["qemu-started", "greeting[tcg]", "replies-in[tcg]", "report", "output", "qemu-stopped"])
        let times = marks.compactMap(\.ms)
        #expect(times.count == marks.count && times.allSatisfy { $0 >= 0 } && times == times.sorted(), "\(timeline)")
    }

    @Test("a QEMU binary that is not QEMU gives a clear error and leaves nothing behind")
    func notQEMU() async throws {
        let runner = ProbeRunner(source: .launch(binary: "/bin/true", accelerators: ["tcg"]))
        let error = await #expect(throws: ProberError.self) { try await runner.run() }
        guard case .qemuFailedToStart(let binary, let detail, _) = error else {
            Issue.record("expected qemuFailedToStart, got \(String(describing: error))")
            return
        }
        #expect(binary == "/bin/true")
        #expect(detail.contains("exited with status 0"))
    }

    @Test("a missing QEMU binary is reported by name")
    func missingBinary() async throws {
        let runner = ProbeRunner(source: .launch(binary: "/nonexistent/qemu-system-x86_64", accelerators: ["tcg"]))
        let error = await #expect(throws: ProberError.self) { try await runner.run() }
        #expect(error?.description.contains("/nonexistent/qemu-system-x86_64") == true)
    }

    @Test("the second QEMU (10.0 from bookworm-backports) probes live too",
          .enabled(if: LiveQEMU.newQEMU != nil, "QMP_PROBE_QEMU_NEW is not set (scripts/test.sh sets it)"))
    func secondQEMU() async throws {
        let binary = try #require(LiveQEMU.newQEMU)
        var runner = ProbeRunner(source: .launch(binary: binary, accelerators: ["tcg"]))
        runner.expandModels = false
        let report = try await runner.run()
        #expect(report.version.major == 10)
        #expect(report.accelerators[0].models.count == 154)
    }
}
