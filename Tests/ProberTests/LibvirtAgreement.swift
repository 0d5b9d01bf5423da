import QMP
@testable import Prober

/// How a ``ProbeReport`` compares with libvirt's capabilities XML of the same QEMU: what differs, one line each, and
/// how much was compared.
struct LibvirtAgreement {
    /// At most this many lines are shown per session.
    static let shown = 25

    /// What differs, one line each (empty when they agree).
    var differences: [String] = []
    /// The accelerators compared: every one the report or libvirt lists, the report's first (in probe order).
    var accelerators: [String] = []
    /// CPU models compared (libvirt's `<cpu>` entries): name, typename, usable, blockers in order, deprecated.
    var models = 0
    /// Host models compared (libvirt's `<hostCPU>` entries).
    var hostModels = 0
    /// Host-model properties compared: name, type, value and migratable mark each.
    var properties = 0

    /// Whether libvirt lists any CPU model for this QEMU.
    var libvirtListsModels: Bool { models > 0 }

    /// Compares `report` with `libvirt`, accelerator by accelerator.
    init(report: ProbeReport, libvirt: LibvirtCapsXML) {
        accelerators = report.accelerators.map(\.name)
        for name in libvirt.accelerators where !accelerators.contains(name) { accelerators.append(name) }
        for accelerator in accelerators {
            let ours = report.accelerators.first { $0.name == accelerator }
            let theirs = libvirt.cpus.filter { $0.type == accelerator }
            let hosts = libvirt.hostCPUs.filter { $0.type == accelerator }
            if ours == nil { differences.append("\(accelerator): not in the report, libvirt lists it") }
            models += theirs.count
            hostModels += hosts.count
            properties += hosts.reduce(0) { $0 + $1.properties.count }
            differences += Self.modelDifferences(ours?.models ?? [], theirs).map { "\(accelerator): \($0)" }
            if hosts.count > 1 { differences.append("\(accelerator): libvirt has \(hosts.count) <hostCPU>") }
            differences += Self.hostDifferences(ours?.hostModel, hosts.first).map { "\(accelerator): \($0)" }
        }
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
            // libvirt writes deprecated='yes' only for a deprecated model.
            if (model.deprecated == true) != (cpu.deprecated == "yes") {
                out.append("\(cpu.name): deprecated \(model.deprecated.map(String.init) ?? "unknown") vs libvirt \(cpu.deprecated ?? "absent")")
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
            if (ours.deprecatedProps ?? []) != theirs.deprecatedFeatures {
                out.append("host model deprecated features: \(ours.deprecatedProps ?? []) vs libvirt \(theirs.deprecatedFeatures)")
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

    /// A short message naming the session: the first lines, and how many more.
    func summary(_ name: String) -> String {
        var lines = ["\(name): \(differences.count) difference(s) with libvirt"]
        lines += differences.prefix(Self.shown).map { "  " + ($0.count > 400 ? $0.prefix(400) + " ..." : $0) }
        if differences.count > Self.shown { lines.append("  ... and \(differences.count - Self.shown) more") }
        return lines.joined(separator: "\n")
    }
}
