import Foundation
import Testing
import QMP
@testable import Prober

/// The probe's reports do not change when its conversation does: every recorded probe (ours in `recorded-sessions/`,
/// `../shared/corpus/libvirt`, libvirt's source package) is replayed, and each part of each accelerator's report is
/// compared with its digest in `Tests/ProberTests/Expectations/report-digests.txt`, written by this test run on the
/// code before the conversation was shortened (commit db7cc33; session 5 then asked one expansion per model and
/// made the quiet reference ask only what `added`/`removed` need). `scripts/report-digests.sh` rewrites the file, and `--dump DIR` writes the full
/// reports, so that two commits' reports can be diffed.
@Suite struct ReportDigestTests {
    /// The checked-in digests.
    static let expectationsPath = ProberTestSupport.repository + "/Tests/ProberTests/Expectations/report-digests.txt"

    /// One replayable probe recording and how it is named in the digests file.
    struct Recording: Sendable, CustomTestStringConvertible {
        /// `recorded-sessions/NAME`, `shared/NAME`, `libvirt/NAME`.
        var label: String
        var path: String
        /// A second recording replayed with it (another accelerator of the same QEMU).
        var with: String? = nil
        var testDescription: String { label }
    }

    /// Every recording present: ours, then the libvirt corpora's.
    static let recordings: [Recording] = {
        var all = ProberTestSupport.recordedSessions.map {
            Recording(label: "recorded-sessions/" + URL(fileURLWithPath: $0).lastPathComponent, path: $0)
        }
        // Our recordings hold one accelerator each: KVM's is also replayed with TCG's, so that `added`/`removed`
        // are computed as when `probe` records both.
        for kvm in ProberTestSupport.recordedSessions where kvm.hasSuffix("-kvm.jsonl") {
            let tcg = String(kvm.dropLast("-kvm.jsonl".count)) + "-tcg.jsonl"
            guard FileManager.default.fileExists(atPath: tcg) else { continue }
            all.append(Recording(label: "recorded-sessions/" + URL(fileURLWithPath: kvm).lastPathComponent + "+tcg",
                                 path: kvm, with: tcg))
        }
        for session in LibvirtCorpus.sessions {
            let prefix = session.corpus == "shared" ? "shared/" : "libvirt/"
            all.append(Recording(label: prefix + session.name + ".replies", path: session.replies))
        }
        return all
    }()

    /// The digest lines of `recording`: one per accelerator,
    /// `LABEL ACCEL count=N qemu=H reference=H reference_kind=H host_model=H models=H notes=H` (FNV-1a 64 of each part's
    /// JSON; the notes with the recording's folder taken out of any path).
    static func lines(_ recording: Recording) async throws -> [String] {
        try lines(recording, of: await report(recording))
    }

    /// The digest lines of `report`, the replay of `recording`.
    static func lines(_ recording: Recording, of report: ProbeReport) -> [String] {
        let json = report.json
        let qemu = digest(json["qemu"] ?? .null)
        // Notes may name the recording by its path: only its file name counts, wherever the checkout is.
        let folders = Set([recording.path, recording.with].compactMap { $0 }.map {
            URL(fileURLWithPath: $0).deletingLastPathComponent().path + "/"
        })
        var lines: [String] = []
        for accelerator in report.accelerators {
            let section = json["accelerators"]?[accelerator.name] ?? .null
            var parts = ["\(recording.label) \(accelerator.name) count=\(accelerator.models.count) qemu=\(qemu)"]
            for key in ["reference", "reference_kind", "host_model", "models"] {
                parts.append("\(key)=\(digest(section[key] ?? .null))")
            }
            let notes = accelerator.notes.map { note in folders.reduce(note) { $0.replacingOccurrences(of: $1, with: "") } }
            parts.append("notes=\(digest(.array(notes.map(JSON.string))))")
            lines.append(parts.joined(separator: " "))
        }
        return lines
    }

    /// The replayed report of `recording` (both sessions' when it has two).
    static func report(_ recording: Recording) async throws -> ProbeReport {
        guard let other = recording.with else { return try await ProberTestSupport.replay(recording.path) }
        var probes: [AcceleratorProbe] = []
        for path in [recording.path, other] {
            probes += try await ProbeRunner(source: .replay(path: path, mode: .matching)).gather().probes
        }
        return await ProbeRunner.computeReport(probes: probes, source: "replay")
    }

    /// FNV-1a, 64 bits, of `value`'s serialization, in hex.
    static func digest(_ value: JSON) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in value.serializedBytes() {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The checked-in lines, by recording label.
    static let expected: [String: [String]] = {
        guard let text = try? String(contentsOfFile: expectationsPath, encoding: .utf8) else { return [:] }
        var byLabel: [String: [String]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            byLabel[String(line.split(separator: " ")[0]), default: []].append(String(line))
        }
        return byLabel
    }()

    @Test("every recording's report is the one before the conversation was shortened", arguments: recordings)
    func unchanged(_ recording: Recording) async throws {
        let expected = try #require(Self.expected[recording.label],
                                    "\(recording.label) is not in \(Self.expectationsPath): run scripts/report-digests.sh")
        let lines = try await Self.lines(recording)
        #expect(lines == expected, "the report of \(recording.label) changed: diff the full reports of both commits (scripts/report-digests.sh --dump DIR)")
    }

    /// Every recording in the file is replayed: ours always, libvirt's when their corpora are present.
    @Test("every recording in the digests file is present")
    func complete() throws {
        let present = Set(Self.recordings.map(\.label))
        let ours = Self.expected.keys.filter { $0.hasPrefix("recorded-sessions/") }
        #expect(!ours.isEmpty, "no digests of recorded-sessions/ in \(Self.expectationsPath)")
        for label in ours { #expect(present.contains(label), "\(label) is in the digests file but not in recorded-sessions/") }
        if LibvirtCorpus.sourcePackage != nil {
            #expect(Self.expected.keys.filter { $0.hasPrefix("libvirt/") }.allSatisfy(present.contains))
            #expect(Self.recordings.filter { $0.label.hasPrefix("libvirt/") }.count == 29)
        }
    }

    /// `scripts/report-digests.sh` runs this with `QMP_PROBE_REPORT_DIGESTS=FILE` (and `QMP_PROBE_REPORT_DUMP=DIR`
    /// for the full reports): it writes the digests of every recording present.
    @Test("writes the digests file",
          .enabled(if: ProcessInfo.processInfo.environment["QMP_PROBE_REPORT_DIGESTS"] != nil,
                   "QMP_PROBE_REPORT_DIGESTS is not set"))
    func write() async throws {
        let environment = ProcessInfo.processInfo.environment
        let path = try #require(environment["QMP_PROBE_REPORT_DIGESTS"])
        var text = "# LABEL ACCELERATOR count=MODELS, then FNV-1a 64 of each part of the report's JSON; written by scripts/report-digests.sh\n"
        for recording in Self.recordings {
            let report = try await Self.report(recording)
            text += Self.lines(recording, of: report).map { $0 + "\n" }.joined()
            if let dump = environment["QMP_PROBE_REPORT_DUMP"], !dump.isEmpty {
                var json = report.json
                if case .object(var object) = json {
                    object["source"] = .string(recording.label)
                    json = .object(object)
                }
                let file = dump + "/" + recording.label.replacingOccurrences(of: "/", with: "__") + ".json"
                try (json.serialized() + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
