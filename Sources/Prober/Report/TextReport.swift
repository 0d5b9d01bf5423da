import Foundation
/// The readable summary of a ``ProbeReport`` for a terminal.
public enum TextReport {
    /// Renders the report; `verbose` lists the enabled features of every model too.
    public static func render(_ report: ProbeReport, verbose: Bool = false) -> String {
        var out = "QEMU \(report.version)"
        if !report.version.package.isEmpty { out += " (\(report.version.package))" }
        out += ", \(report.arch ?? "unknown arch")"
        out += report.binary.map { ", \($0)" } ?? ""
        out += " [\(report.source)]\n"
        for accelerator in report.accelerators {
            out += "\n" + renderAccelerator(accelerator, verbose: verbose)
        }
        return out
    }

    static func mark(_ features: [String]) -> String {
        features.map { ProbeReport.highlighted.contains($0) ? "\($0)*" : $0 }.joined(separator: " ")
    }

    static func renderAccelerator(_ accelerator: ProbeReport.Accelerator, verbose: Bool) -> String {
        let models = accelerator.models
        let usable = models.filter { $0.usable == true }
        let blocked = models.filter { $0.usable == false }
        var out = "== \(accelerator.name): \(models.count) models, \(usable.count) usable, \(blocked.count) not usable"
        let unknown = models.count - usable.count - blocked.count
        out += unknown > 0 ? ", \(unknown) unknown\n" : "\n"
        if let host = accelerator.hostModel {
            out += "host model: \(host.name) -> \(host.model) (\(host.method) expansion), "
            if host.migratabilityKnown {
                out += "\(host.migratable.count) migratable features"
                if !host.nonMigratable.isEmpty { out += ", not migratable: \(host.nonMigratable.joined(separator: " "))" }
            } else {
                // No migratable=false pass (s390x, arm): say what the expansion sets (on s390x, against its -base model).
                let on = host.props.values.filter { $0.boolValue == true }.count
                let off = host.props.values.filter { $0.boolValue == false }.count
                out += "sets \(on) features on, \(off) off"
            }
            out += "\n"
        }
        // Features every expanded model gets against the reference: say them once.
        let compared = models.filter {
            $0.added != nil && $0.aliasOf == nil && !["host", "max", "base"].contains($0.name)
        }
        var commonAdded = Set<String>()
        var commonRemoved = Set<String>()
        if let reference = accelerator.reference, let first = compared.first {
            commonAdded = compared.dropFirst().reduce(Set(first.added ?? [])) { $0.intersection($1.added ?? []) }
            commonRemoved = compared.dropFirst().reduce(Set(first.removed ?? [])) { $0.intersection($1.removed ?? []) }
            out += "against \(reference), every model gets: +\(mark(commonAdded.sorted()))"
            if !commonRemoved.isEmpty { out += " -\(mark(commonRemoved.sorted()).replacingOccurrences(of: " ", with: " -"))" }
            out += "\n"
        } else if let reference = accelerator.reference {
            out += "added/removed: against \(reference)\n"
        } else {
            out += "added/removed: \(ProbeReference.absence(for: accelerator.name))\n"
        }
        let width = min(28, (models.map(\.name.count).max() ?? 10) + 2)
        for model in models {
            var line = model.name.padding(toLength: max(width, model.name.count + 1), withPad: " ", startingAt: 0)
            switch model.usable {
            case true?: line += "usable    "
            case false?: line += "NOT usable"
            case nil: line += "unknown   "
            }
            var details: [String] = []
            if let alias = model.aliasOf { details.append("= \(alias)") }
            let added = (model.added ?? []).filter { !commonAdded.contains($0) }
            let removed = (model.removed ?? []).filter { !commonRemoved.contains($0) }
            if !added.isEmpty { details.append("added: \(mark(added))") }
            if !removed.isEmpty { details.append("removed: \(mark(removed))") }
            if let dropped = model.dropped, !dropped.isEmpty { details.append("dropped: \(mark(dropped))") }
            if model.deprecated == true { details.append("deprecated") }
            if verbose, let enabled = model.enabled { details.append("enabled: \(enabled.joined(separator: " "))") }
            out += line + (details.isEmpty ? "" : "  " + details.joined(separator: "; ")) + "\n"
        }
        for note in accelerator.notes { out += "note: \(note)\n" }
        return out
    }
}
