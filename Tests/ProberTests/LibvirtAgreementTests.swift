import Foundation
import Testing
import QMP
@testable import Prober

/// Where libvirt's recorded probes are: `../shared/corpus/libvirt` beside the repository.
enum LibvirtCorpus {
    /// The repository root (three levels up from this file).
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The corpus folder, or nil (with a visible note) when absent.
    static let folder: String? = {
        let path = URL(fileURLWithPath: repository).deletingLastPathComponent().path + "/shared/corpus/libvirt"
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return path }
        print("note: \(path) is absent; the libvirt agreement tests are skipped")
        return nil
    }()

    /// Every `NAME.replies` in the folder (sorted), by base name; its `NAME.xml` is what libvirt computed from it.
    static var sessions: [String] {
        guard let folder else { return [] }
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".replies") }
            .map { String($0.dropLast(".replies".count)) }
            .sorted()
    }
}

/// Replaying each of libvirt's recorded probes gives, per accelerator, exactly libvirt's CPU models, usable flags,
/// blocker lists, and host model (QEMU's property names, types, values and migratable marks).
@Suite(.enabled(if: LibvirtCorpus.folder != nil, "../shared/corpus/libvirt is absent"))
struct LibvirtAgreementTests {
    @Test("the corpus has sessions, each with its .xml")
    func corpusIsComplete() throws {
        let folder = try #require(LibvirtCorpus.folder)
        #expect(!LibvirtCorpus.sessions.isEmpty, "no .replies in \(folder)")
        for name in LibvirtCorpus.sessions {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(name).xml"), "\(name).replies has no \(name).xml")
        }
    }

    @Test("replaying agrees with libvirt's .xml", arguments: LibvirtCorpus.sessions)
    func agrees(_ name: String) async throws {
        let folder = try #require(LibvirtCorpus.folder)
        let xmlPath = "\(folder)/\(name).xml"
        try #require(FileManager.default.fileExists(atPath: xmlPath), "\(name).replies has no \(name).xml")
        let expected = try LibvirtCapsXML.load(path: xmlPath)
        let runner = ProbeRunner(source: .replay(path: "\(folder)/\(name).replies", mode: .matching))
        let report = try await runner.run()
        let differences = LibvirtAgreement.differences(report: report, libvirt: expected)
        if !differences.isEmpty { Issue.record(Comment(rawValue: LibvirtAgreement.summary(name, differences))) }
    }

    @Test("the host model JSON carries libvirt's migratable marks under QEMU's names")
    func marksInJSON() async throws {
        let folder = try #require(LibvirtCorpus.folder)
        let name = try #require(LibvirtCorpus.sessions.first { $0.hasPrefix("caps_4.2.0.x86_64") })
        let report = try await ProbeRunner(source: .replay(path: "\(folder)/\(name).replies", mode: .matching)).run()
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
        if let s390 = LibvirtCorpus.sessions.first(where: { $0.contains("s390x") }) {
            let report = try await ProbeRunner(source: .replay(path: "\(folder)/\(s390).replies", mode: .matching)).run()
            for accelerator in report.accelerators {
                let host = try #require(accelerator.hostModel)
                #expect(!host.migratabilityKnown && host.marks.isEmpty)
                #expect(host.json["migratable_marks"]?.isNull == true)
            }
        }
    }
}

/// Compares a ``ProbeReport`` with libvirt's capabilities XML.
enum LibvirtAgreement {
    /// At most this many lines are shown per session.
    static let shown = 25

    /// What differs, one line each (empty when they agree).
    static func differences(report: ProbeReport, libvirt: LibvirtCapsXML) -> [String] {
        var out: [String] = []
        let ours = report.accelerators.map(\.name)
        if ours != libvirt.accelerators {
            out.append("accelerators: report \(ours), libvirt \(libvirt.accelerators)")
        }
        for accelerator in libvirt.accelerators {
            guard let ourAccelerator = report.accelerators.first(where: { $0.name == accelerator }) else { continue }
            out += modelDifferences(ourAccelerator.models, libvirt.cpus.filter { $0.type == accelerator })
                .map { "\(accelerator): \($0)" }
            let hosts = libvirt.hostCPUs.filter { $0.type == accelerator }
            if hosts.count > 1 { out.append("\(accelerator): libvirt has \(hosts.count) <hostCPU>") }
            out += hostDifferences(ourAccelerator.hostModel, hosts.first).map { "\(accelerator): \($0)" }
        }
        return out
    }

    static func modelDifferences(_ ours: [ProbeReport.Model], _ theirs: [LibvirtCapsXML.CPU]) -> [String] {
        var out = listDifferences("models", ours.map(\.name), theirs.map(\.name))
        var byName: [String: ProbeReport.Model] = [:]
        for model in ours where byName[model.name] == nil { byName[model.name] = model }
        for cpu in theirs {
            guard let model = byName[cpu.name] else { continue }
            if model.typename != cpu.typename {
                out.append("\(cpu.name): typename \(model.typename ?? "none") vs libvirt \(cpu.typename ?? "none")")
            }
            let usable = model.usable.map { $0 ? "yes" : "no" }
            if usable != cpu.usable {
                out.append("\(cpu.name): usable \(usable ?? "unknown") vs libvirt \(cpu.usable ?? "unknown")")
            }
            if (model.blockers ?? []) != cpu.blockers {
                out.append("\(cpu.name): blockers \(model.blockers ?? []) vs libvirt \(cpu.blockers)")
            }
        }
        return out
    }

    static func hostDifferences(_ ours: ProbeReport.HostModel?, _ theirs: LibvirtCapsXML.HostCPU?) -> [String] {
        switch (ours, theirs) {
        case (nil, nil): return []
        case (nil, let theirs?): return ["host model: none in the report, libvirt has '\(theirs.model)'"]
        case (let ours?, nil): return ["host model: report has '\(ours.model)', libvirt has none"]
        case (let ours?, let theirs?):
            var out: [String] = []
            if ours.model != theirs.model { out.append("host model: '\(ours.model)' vs libvirt '\(theirs.model)'") }
            let migratability = ours.migratabilityKnown ? "yes" : "no"
            if migratability != (theirs.migratability ?? "no") {
                out.append("host model migratability: \(migratability) vs libvirt \(theirs.migratability ?? "absent")")
            }
            out += propertyDifferences(properties(ours), theirs.properties)
            return out
        }
    }

    /// The report's host model as libvirt would write it: booleans, numbers and strings (libvirt keeps no other
    /// types), each with its migratable mark.
    static func properties(_ host: ProbeReport.HostModel) -> [LibvirtCapsXML.Property] {
        host.props.compactMap { key, value in
            let type: String
            let text: String
            switch value {
            case .bool(let bool): (type, text) = ("boolean", bool ? "true" : "false")
            case .int(let int): (type, text) = ("number", String(int))
            case .uint(let uint): (type, text) = ("number", String(uint))
            case .double(let double):
                guard let int = Int64(exactly: double) else { return nil }
                (type, text) = ("number", String(int))
            case .string(let string): (type, text) = ("string", string)
            case .null, .array, .object: return nil
            }
            return .init(name: key, type: type, value: text, migratable: host.marks[key].map { $0 ? "yes" : "no" })
        }
    }

    static func propertyDifferences(_ ours: [LibvirtCapsXML.Property], _ theirs: [LibvirtCapsXML.Property]) -> [String] {
        if ours == theirs { return [] }
        var out: [String] = []
        let ourByName = Dictionary(ours.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let theirByName = Dictionary(theirs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        if ourByName.count != ours.count { out.append("host model: the report repeats a property") }
        if theirByName.count != theirs.count { out.append("host model: libvirt repeats a property") }
        for property in theirs where ourByName[property.name] == nil {
            out.append("host property missing from the report: \(property)")
        }
        for property in ours where theirByName[property.name] == nil {
            out.append("host property not in libvirt: \(property)")
        }
        for property in ours {
            if let other = theirByName[property.name], other != property {
                out.append("host property \(property) vs libvirt \(other)")
            }
        }
        if out.isEmpty, let index = ours.indices.first(where: { $0 < theirs.count && ours[$0].name != theirs[$0].name }) {
            out.append("host properties in another order: #\(index) is \(ours[index].name), libvirt \(theirs[index].name)")
        }
        return out
    }

    /// Differences between two ordered lists (counts, members only on one side, or the first position that differs).
    static func listDifferences(_ what: String, _ ours: [String], _ theirs: [String]) -> [String] {
        guard ours != theirs else { return [] }
        var out = ["\(what): \(ours.count) in the report, \(theirs.count) in libvirt"]
        let onlyOurs = ours.filter { !theirs.contains($0) }
        let onlyTheirs = theirs.filter { !ours.contains($0) }
        if !onlyOurs.isEmpty { out.append("\(what) only in the report: \(onlyOurs.prefix(8).joined(separator: ", "))") }
        if !onlyTheirs.isEmpty { out.append("\(what) only in libvirt: \(onlyTheirs.prefix(8).joined(separator: ", "))") }
        if let index = ours.indices.first(where: { $0 < theirs.count && ours[$0] != theirs[$0] }) {
            out.append("\(what) first differ at #\(index): \(ours[index]) vs libvirt \(theirs[index])")
        }
        return out
    }

    /// A short message: the first lines, and how many more.
    static func summary(_ name: String, _ differences: [String]) -> String {
        var lines = ["\(name): \(differences.count) difference(s) with libvirt"]
        lines += differences.prefix(shown).map { "  " + ($0.count > 400 ? $0.prefix(400) + " ..." : $0) }
        if differences.count > shown { lines.append("  ... and \(differences.count - shown) more") }
        return lines.joined(separator: "\n")
    }
}
