import Foundation
import Testing
import QMP
@testable import Prober

/// Replaying each of libvirt's recorded probes (``LibvirtCorpus``) gives, for every accelerator libvirt lists (kvm, tcg,
/// hvf), exactly libvirt's CPU models, usable flags, blocker lists, deprecated marks, and host model (QEMU's property
/// names, types, values, migratable marks and deprecated features).
@Suite(.enabled(if: !LibvirtCorpus.sessions.isEmpty || LibvirtCorpus.sourcePackage != nil,
                "neither ../shared/corpus/libvirt nor QMP_PROBE_LIBVIRT_CORPUS"))
struct LibvirtAgreementTests {
    @Test("every session has its .xml")
    func corpusIsComplete() throws {
        for session in LibvirtCorpus.sessions {
            #expect(FileManager.default.fileExists(atPath: session.xml), "\(session.replies) has no \(session.name).xml")
        }
    }

    /// CI always fetches the source package's corpus: when the variable names it, it must be there (not skipped).
    @Test("the source package's corpus is where QMP_PROBE_LIBVIRT_CORPUS says",
          .enabled(if: LibvirtCorpus.sourcePackage != nil, "QMP_PROBE_LIBVIRT_CORPUS is not set"))
    func sourcePackagePresent() throws {
        let folder = try #require(LibvirtCorpus.sourcePackage)
        var isDirectory: ObjCBool = false
        try #require(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue,
                     "\(LibvirtCorpus.environmentVariable)=\(folder) is not a folder: run scripts/fetch-libvirt-corpus.sh")
        // libvirt 11.3.0's tests/qemucapabilitiesdata/ holds 29 sessions (QEMU 6.2 to 10.0).
        #expect(LibvirtCorpus.sessions(in: folder, corpus: "").count == 29)
    }

    @Test("replaying agrees with libvirt's .xml", arguments: LibvirtCorpus.sessions)
    func agrees(_ session: LibvirtCorpus.Session) async throws {
        let agreement = try await Self.compare(session)
        if !agreement.libvirtListsModels {
            print("note: \(session.name): libvirt lists no CPU models for this QEMU (\(session.versionAndArch.arch)); only the absence of models and host models is compared")
        }
        if !agreement.differences.isEmpty { Issue.record(Comment(rawValue: agreement.summary(session.name))) }
    }

    /// Replays `session` and compares the report with its `.xml`.
    static func compare(_ session: LibvirtCorpus.Session) async throws -> LibvirtAgreement {
        try #require(FileManager.default.fileExists(atPath: session.xml), "\(session.replies) has no \(session.name).xml")
        let expected = try LibvirtCapsXML.load(path: session.xml)
        let report = try await ProbeRunner(source: .replay(path: session.replies, mode: .matching)).run()
        return LibvirtAgreement(report: report, libvirt: expected)
    }

    /// `scripts/corpus-table.sh` runs this test with `QMP_PROBE_CORPUS_TABLE=FILE`: it writes the table of every
    /// session for docs/compatibility.md.
    @Test("the agreement table for docs/compatibility.md",
          .enabled(if: ProcessInfo.processInfo.environment["QMP_PROBE_CORPUS_TABLE"] != nil, "QMP_PROBE_CORPUS_TABLE is not set"))
    func table() async throws {
        let path = try #require(ProcessInfo.processInfo.environment["QMP_PROBE_CORPUS_TABLE"])
        var lines = ["| session | corpus | QEMU | arch | accelerators | items compared | agreement |",
                     "| --- | --- | --- | --- | --- | --- | --- |"]
        for session in LibvirtCorpus.sessions {
            let agreement = try await Self.compare(session)
            let (version, arch) = session.versionAndArch
            let hosts = agreement.hostModels == 0 ? "no host model"
                : "\(agreement.hostModels) host model\(agreement.hostModels == 1 ? "" : "s") (\(agreement.properties) properties)"
            let items = agreement.libvirtListsModels ? "\(agreement.models) models, \(hosts)" : "none: libvirt lists no CPU models"
            let verdict = agreement.differences.isEmpty ? "agrees (0 mismatches)" : "\(agreement.differences.count) mismatches"
            lines.append("| `\(session.name)` | \(session.corpus) | \(version) | \(arch) | \(agreement.accelerators.joined(separator: ", ")) | \(items) | \(verdict) |")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("the host model JSON carries libvirt's migratable marks under QEMU's names",
          .enabled(if: ProberTestSupport.libvirtCorpus != nil, "../shared/corpus/libvirt is absent"))
    func marksInJSON() async throws {
        let session = try #require(LibvirtCorpus.session("caps_4.2.0.x86_64"), "../shared/corpus/libvirt has no caps_4.2.0.x86_64")
        let report = try await ProbeRunner(source: .replay(path: session.replies, mode: .matching)).run()
        let host = try #require(report.accelerators.first?.hostModel)
        let json = host.json
        #expect(host.migratabilityKnown)
        let marks = try #require(json["migratable_marks"]?.objectValue)
        #expect(marks.count == host.marks.count && !marks.isEmpty)
        // Every true boolean has a mark; false ones have none.
        for (key, value) in host.props where value.boolValue != nil {
            #expect((marks[key] != nil) == (value.boolValue == true), "\(key)")
        }
        // Without a migratable=false pass (s390x), there are no marks.
        if let s390 = LibvirtCorpus.session("caps_6.0.0.s390x") {
            let report = try await ProbeRunner(source: .replay(path: s390.replies, mode: .matching)).run()
            for accelerator in report.accelerators {
                let host = try #require(accelerator.hostModel)
                #expect(!host.migratabilityKnown && host.marks.isEmpty)
                #expect(host.json["migratable_marks"]?.isNull == true)
            }
        }
    }
}
