extension CompareReport {
    /// The readable summary for a terminal (what `qmp-probe compare` prints): per accelerator, the blocked models one
    /// per line with their blockers, then the compatible ones.
    public var text: String { CompareTextReport.render(self) }
}

/// The readable summary of a ``CompareReport`` for a terminal.
package enum CompareTextReport {
    /// Renders the report: per accelerator, blocked models one per line with their blockers, then the compatible ones.
    package static func render(_ report: CompareReport) -> String {
        func side(_ name: String, _ side: CompareReport.Side) -> String {
            "\(name): \(side.label) (QEMU \(side.version), \(side.arch ?? "unknown arch"); \(side.paths.joined(separator: ", ")))\n"
        }
        var out = side("SRC", report.source) + side("DST", report.destination)
        out += "question: \(CompareReport.question)\n"
        if let cpu = report.cpu { out += "cpu: \(cpu)\n" }
        for accelerator in report.accelerators {
            let verdicts = accelerator.verdicts
            let blocked = verdicts.filter { !$0.compatible }
            let missing = verdicts.filter(\.modelMissing).count
            out += "\n== \(accelerator.name): \(verdicts.count) model\(verdicts.count == 1 ? "" : "s"), "
                + "\(verdicts.count - blocked.count) compatible, \(blocked.count) blocked"
                + (missing > 0 ? " (\(missing) missing on DST)" : "") + "\n"
            let width = min(28, (verdicts.map(\.model.count).max() ?? 10) + 2)
            for verdict in blocked {
                out += pad(verdict.model, width) + "BLOCKED     " + describe(verdict, detailed: report.cpu != nil) + "\n"
            }
            if report.cpu != nil {
                for verdict in verdicts where verdict.compatible {
                    out += pad(verdict.model, width) + "compatible  " + describe(verdict, detailed: true) + "\n"
                }
                for verdict in verdicts {
                    if let guest = verdict.guest { out += "guest CPU on SRC: \(TextReport.mark(guest))\n" }
                }
            } else {
                let compatible = verdicts.filter(\.compatible).map(\.model)
                if !compatible.isEmpty { out += wrap("compatible: ", compatible) }
            }
            for note in accelerator.notes { out += "note: \(note)\n" }
        }
        if report.accelerators.contains(where: { $0.verdicts.contains { $0.blockers.contains(where: \.addedBySource) } }) {
            out += "\n[added]: a feature SRC's QEMU added on its own (against its reference), not asked for by the model\n"
        }
        out += "\n" + (report.compatible ? "result: compatible (everything asked for)\n" : "result: BLOCKED (see above)\n")
        return out
    }

    /// One verdict's details: blockers grouped by reason, `[added]` after a feature SRC's QEMU added on its own;
    /// `detailed` adds what SRC's QEMU added and what SRC filtered.
    static func describe(_ verdict: ModelVerdict, detailed: Bool) -> String {
        var parts: [String] = []
        if verdict.modelMissing { parts.append("model missing on DST") }
        for reason in ModelVerdict.Reason.allCases {
            let features = verdict.blockers.filter { $0.reason == reason }
            guard !features.isEmpty else { continue }
            parts.append("\(reason.phrase): " + features.map { blocker in
                (ProbeReport.highlighted.contains(blocker.feature) ? blocker.feature + "*" : blocker.feature)
                    + (blocker.addedBySource ? "[added]" : "")
            }.joined(separator: " "))
        }
        if detailed, let added = verdict.added, !added.isEmpty { parts.append("SRC's QEMU added: \(TextReport.mark(added))") }
        if detailed, !verdict.filtered.isEmpty { parts.append("filtered on SRC: \(verdict.filtered.joined(separator: " "))") }
        if let definition = verdict.destinationModel { parts.append("checked as \(definition) on DST") }
        if let definition = verdict.sourceModel { parts.append("taken as \(definition) on SRC") }
        if detailed, verdict.basis == .model { parts.append("checked by model: SRC did not expand it") }
        return parts.joined(separator: "; ")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.padding(toLength: max(width, text.count + 1), withPad: " ", startingAt: 0)
    }

    /// `prefix` then the words, wrapped at 110 columns with a hanging indent.
    static func wrap(_ prefix: String, _ words: [String]) -> String {
        var out = ""
        var line = prefix
        for word in words {
            if line.count + word.count + 1 > 110, line.count > prefix.count {
                out += line + "\n"
                line = String(repeating: " ", count: prefix.count)
            }
            line += (line.hasSuffix(" ") ? "" : " ") + word
        }
        return out + line + "\n"
    }
}
