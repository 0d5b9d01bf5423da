extension BaselineReport {
    /// The readable summary for a terminal (what `qmp-probe baseline` prints): the hosts, per accelerator the models
    /// usable everywhere and what blocks the others, the shared features and the baseline CPU.
    public var text: String { BaselineTextReport.render(self) }
}

/// The readable summary of a ``BaselineReport`` for a terminal.
package enum BaselineTextReport {
    /// How many host labels to name per group before "and N more".
    package static let hostsShown = 6
    /// How many blocking features to name per group before "(+N more)" (`--json` has them all).
    package static let featuresShown = 8

    /// Renders the report.
    package static func render(_ report: BaselineReport) -> String {
        var out = "\(report.hosts.count) host\(report.hosts.count == 1 ? "" : "s"):"
        if report.hosts.count <= 12 {
            out += "\n" + report.hosts.map { "  \($0.label): QEMU \($0.version), \($0.arch ?? "unknown arch")" }.joined(separator: "\n") + "\n"
        } else {
            var versions: [String: Int] = [:]
            for host in report.hosts { versions["QEMU \(host.version)", default: 0] += 1 }
            out += " " + versions.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ") + "\n"
        }
        for accelerator in report.accelerators {
            let everywhere = accelerator.models.filter(\.usableEverywhere)
            out += "\n== \(accelerator.name): \(accelerator.models.count) models, \(everywhere.count) usable on every host\n"
            if !everywhere.isEmpty { out += CompareTextReport.wrap("usable on every host:", everywhere.map(\.name)) }
            let blocked = accelerator.models.filter { !$0.usableEverywhere }
            if !blocked.isEmpty {
                out += "blocked somewhere:\n"
                let width = min(28, (blocked.map(\.name.count).max() ?? 10) + 2)
                for row in blocked {
                    let count = row.blockedBy.reduce(0) { $0 + $1.hosts.count }
                    out += "  " + CompareTextReport.pad(row.name, width) + "blocked on \(count)/\(report.hosts.count): "
                    out += row.blockedBy.map { describe($0, report) }.joined(separator: "; ") + "\n"
                }
            }
            out += CompareTextReport.wrap("shared host-model features (\(accelerator.shared.count)):", accelerator.shared)
            out += "hosts' vendor: \(accelerator.vendor ?? "none") (\(accelerator.vendorBasis))\n"
            if let baseline = accelerator.baseline {
                switch baseline.rule {
                case .libvirt?:
                    out += "baseline model: \(baseline.model) (libvirt's rule: of the hosts' vendor, closest to the shared features with features disabled allowed; cost \(baseline.cost ?? 0): \(baseline.plus.count) added, \(baseline.minus.count) disabled)\n"
                case .usableAsIs?, nil:
                    out += "baseline model: \(baseline.model) (usable as it is on every host, with the most shared features)\n"
                }
                out += "baseline -cpu: \(baseline.cpuString)\n"
                out += "baseline libvirt:\n\(baseline.libvirtXML)\n"
                out += describe(baseline, report, name: "baseline")
            }
            if let checked = accelerator.checked {
                out += "your CPU -cpu: \(checked.cpuString)\n" + describe(checked, report, name: "your CPU")
            }
            for note in accelerator.notes { out += "note: \(note)\n" }
        }
        return out
    }

    /// Where a CPU runs, and the paravirtual features left to the platform.
    static func describe(_ cpu: BaselineReport.BaselineCPU, _ report: BaselineReport, name: String) -> String {
        var out = ""
        if !cpu.paravirtual.isEmpty {
            out += CompareTextReport.wrap("paravirtual (every host; not in the CPU model):", cpu.paravirtual)
        }
        if cpu.runsEverywhere { return out + "\(name) runs on every host\n" }
        out += "\(name) does NOT run on:\n"
        for block in cpu.blockedOn {
            let labels = block.hosts.prefix(hostsShown).map { report.hosts[$0].label }.joined(separator: ", ")
                + (block.hosts.count > hostsShown ? " and \(block.hosts.count - hostsShown) more" : "")
            var why: [String] = []
            if block.missingModel { why.append("its QEMU has no model \(cpu.model)") }
            if !block.cannotGive.isEmpty { why.append("cannot give " + block.cannotGive.joined(separator: " ")) }
            if !block.unknown.isEmpty { why.append("its QEMU does not know " + block.unknown.joined(separator: " ")) }
            out += "  \(labels): \(why.joined(separator: "; "))\n"
        }
        return out
    }

    /// One group: why, then which hosts.
    static func describe(_ group: BaselineReport.Blocking, _ report: BaselineReport) -> String {
        let shown = group.blockers.prefix(featuresShown).joined(separator: " ")
            + (group.blockers.count > featuresShown ? " (+\(group.blockers.count - featuresShown) more)" : "")
        let why = group.missing ? "missing" : group.unknown ? "usability unknown" : group.blockers.isEmpty ? "not usable" : shown
        let labels = group.hosts.prefix(hostsShown).map { report.hosts[$0].label }
        let more = group.hosts.count > hostsShown ? " and \(group.hosts.count - hostsShown) more" : ""
        return "\(why) (\(labels.joined(separator: ", "))\(more))"
    }
}
