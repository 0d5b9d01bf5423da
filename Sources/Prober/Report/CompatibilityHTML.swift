/// One self-contained HTML page (inline CSS, no scripts, nothing fetched) with a matrix of CPU models by hosts
/// (`baseline`) or by SRC→DST pairs (`compare`): usable cells green, blocked cells red with their blocking
/// features, missing models grey, unknown ones yellow.
package enum CompatibilityHTML {
    /// The state of one cell, which is also its CSS class.
    package enum State: String, Sendable {
        /// The guest could run / the model is usable.
        case usable
        /// Blocked: the cell lists why.
        case blocked
        /// The model does not exist there.
        case missing
        /// QEMU did not say.
        case unknown
    }

    /// The cell colours (CSS hex), also used by the tests to find cells in a screenshot.
    package static let colors: [State: String] = [
        .usable: "#b7e4c1", .blocked: "#f4b6ae", .missing: "#d3d3d3", .unknown: "#fbe9a6",
    ]

    struct Cell {
        var state: State
        var text: String
        var title: String
    }

    struct Table {
        var heading: String
        var columns: [(label: String, detail: String)]
        var rows: [(name: String, cells: [Cell])]
        var footer: [String]
    }

    /// The page for a ``CompareReport``: one column per accelerator compared.
    package static func render(_ report: CompareReport) -> String {
        let src = report.source, dst = report.destination
        var modelOrder: [String] = []
        var seen = Set<String>()
        for accelerator in report.accelerators {
            for verdict in accelerator.verdicts where seen.insert(verdict.model).inserted { modelOrder.append(verdict.model) }
        }
        let columns = report.accelerators.map { accelerator in
            (label: "\(accelerator.name): \(src.label) → \(dst.label)",
             detail: "\(accelerator.verdicts.filter(\.compatible).count) compatible, \(accelerator.verdicts.filter { !$0.compatible }.count) blocked")
        }
        let rows = modelOrder.map { model in
            (name: model, cells: report.accelerators.map { accelerator -> Cell in
                guard let verdict = accelerator.verdicts.first(where: { $0.model == model }) else {
                    return Cell(state: .missing, text: "not on SRC", title: "\(model) is not a model of \(src.label)")
                }
                if verdict.modelMissing {
                    return Cell(state: .missing, text: "missing on DST", title: "\(dst.label) has no model \(model)")
                }
                if verdict.compatible {
                    var text = "✓ compatible"
                    if let added = verdict.added, !added.isEmpty { text += "\nSRC added: " + added.joined(separator: " ") }
                    return Cell(state: .usable, text: text, title: "\(model): a guest started on \(src.label) runs on \(dst.label)")
                }
                let text = ModelVerdict.Reason.allCases.compactMap { reason -> String? in
                    let features = verdict.blockers.filter { $0.reason == reason }
                    guard !features.isEmpty else { return nil }
                    return "\(reason.phrase): " + features.map { $0.feature + ($0.addedBySource ? " (added)" : "") }.joined(separator: " ")
                }.joined(separator: "\n")
                return Cell(state: .blocked, text: text, title: "\(model): blocked on \(dst.label)")
            })
        }
        let subtitle = [
            "SRC: \(src.label) — QEMU \(src.version), \(src.arch ?? "unknown arch") (\(src.paths.joined(separator: ", ")))",
            "DST: \(dst.label) — QEMU \(dst.version), \(dst.arch ?? "unknown arch") (\(dst.paths.joined(separator: ", ")))",
            CompareReport.question + (report.cpu.map { " CPU: \($0)" } ?? ""),
        ]
        let table = Table(heading: "Models", columns: columns, rows: rows,
                          footer: report.accelerators.flatMap { accelerator in accelerator.notes.map { "\(accelerator.name): \($0)" } })
        return page(title: "qmp-probe compare: \(src.label) → \(dst.label)", subtitle: subtitle, tables: [table])
    }

    /// The page for a ``BaselineReport``: per accelerator, models by hosts; beyond `maxColumns` hosts, hosts with
    /// identical columns share one.
    package static func render(_ report: BaselineReport, maxColumns: Int = 40) -> String {
        var tables: [Table] = []
        for accelerator in report.accelerators {
            // Each host's cells, then columns: one per host, or per group of identical hosts when there are many.
            var cells = [[Cell]](repeating: [], count: report.hosts.count)
            for row in accelerator.models {
                var byHost = [Cell?](repeating: nil, count: report.hosts.count)
                for group in row.blockedBy {
                    let cell: Cell
                    if group.missing {
                        cell = Cell(state: .missing, text: "missing", title: "no model \(row.name)")
                    } else if group.unknown {
                        cell = Cell(state: .unknown, text: "unknown", title: "QEMU did not say whether \(row.name) is usable")
                    } else {
                        cell = Cell(state: .blocked, text: group.blockers.isEmpty ? "not usable" : group.blockers.joined(separator: " "),
                                    title: "\(row.name) blocked")
                    }
                    for host in group.hosts { byHost[host] = cell }
                }
                for host in byHost.indices {
                    cells[host].append(byHost[host] ?? Cell(state: .usable, text: "✓", title: "\(row.name) usable"))
                }
            }
            var columnHosts: [[Int]] = report.hosts.indices.map { [$0] }
            if report.hosts.count > maxColumns {
                var groups: [String: Int] = [:]
                columnHosts = []
                for host in report.hosts.indices {
                    let key = cells[host].map { "\($0.state.rawValue):\($0.text)" }.joined(separator: "|")
                    if let existing = groups[key] { columnHosts[existing].append(host) } else {
                        groups[key] = columnHosts.count
                        columnHosts.append([host])
                    }
                }
            }
            let columns = columnHosts.map { hosts -> (label: String, detail: String) in
                if hosts.count == 1 {
                    let host = report.hosts[hosts[0]]
                    return (host.label, "QEMU \(host.version)")
                }
                let names = hosts.prefix(3).map { report.hosts[$0].label }.joined(separator: ", ")
                return ("\(hosts.count) hosts", names + (hosts.count > 3 ? ", …" : ""))
            }
            let rows = accelerator.models.enumerated().map { index, row in
                (name: row.name, cells: columnHosts.map { cells[$0[0]][index] })
            }
            var footer = ["shared host-model features (\(accelerator.shared.count)): " + accelerator.shared.joined(separator: " ")]
            if let baseline = accelerator.baseline {
                footer.append("baseline -cpu: " + baseline.cpuString)
                footer.append("baseline libvirt:\n" + baseline.libvirtXML)
            }
            footer += accelerator.notes
            let usable = accelerator.models.filter(\.usableEverywhere).count
            tables.append(Table(heading: "\(accelerator.name): \(usable) of \(accelerator.models.count) models usable on every host",
                                columns: columns, rows: rows, footer: footer))
        }
        let versions = Set(report.hosts.map { "QEMU \($0.version)" }).sorted().joined(separator: ", ")
        return page(title: "qmp-probe baseline: \(report.hosts.count) hosts",
                    subtitle: ["\(report.hosts.count) hosts (\(versions)): which CPU models run everywhere, and what blocks the others"],
                    tables: tables)
    }

    static func page(title: String, subtitle: [String], tables: [Table]) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font: 13px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px; color: #1d1d1f; background: #fff; }
            h1 { font-size: 19px; margin: 0 0 6px; }
            h2 { font-size: 15px; margin: 18px 0 6px; }
            p.sub { margin: 2px 0; color: #444; }
            .legend span { display: inline-block; padding: 3px 10px; margin: 8px 6px 4px 0; border: 1px solid #999; }
            table { border-collapse: collapse; }
            th, td { border: 1px solid #9a9a9a; padding: 3px 6px; vertical-align: top; }
            th { background: #eef0f3; font-weight: 600; text-align: left; }
            thead th { position: sticky; top: 0; }
            th.model { position: sticky; left: 0; background: #eef0f3; white-space: nowrap; }
            th small { display: block; font-weight: 400; color: #555; }
            td { font-size: 11px; min-width: 90px; max-width: 330px; white-space: pre-wrap; }
            .usable { background: \(colors[.usable]!); }
            .blocked { background: \(colors[.blocked]!); }
            .missing { background: \(colors[.missing]!); color: #444; }
            .unknown { background: \(colors[.unknown]!); }
            pre.footer, p.footer { white-space: pre-wrap; overflow-wrap: anywhere; font: 12px/1.4 ui-monospace, monospace; margin: 6px 0; max-width: 1300px; }
            </style></head><body>
            <h1>\(escape(title))</h1>

            """
        for line in subtitle { html += "<p class=\"sub\">\(escape(line))</p>\n" }
        html += "<div class=\"legend\">" + [State.usable, .blocked, .missing, .unknown].map {
            "<span class=\"\($0.rawValue)\">\($0.rawValue)</span>"
        }.joined() + "</div>\n"
        for table in tables {
            html += "<h2>\(escape(table.heading))</h2>\n<table>\n<thead><tr><th class=\"model\">model</th>"
            for column in table.columns {
                html += "<th>\(escape(column.label))<small>\(escape(column.detail))</small></th>"
            }
            html += "</tr></thead>\n<tbody>\n"
            for row in table.rows {
                html += "<tr><th class=\"model\">\(escape(row.name))</th>"
                for cell in row.cells {
                    html += "<td class=\"\(cell.state.rawValue)\" title=\"\(escape(cell.title))\">\(escape(cell.text))</td>"
                }
                html += "</tr>\n"
            }
            html += "</tbody></table>\n"
            for line in table.footer { html += "<pre class=\"footer\">\(escape(line))</pre>\n" }
        }
        return html + "</body></html>\n"
    }

    /// Escapes text for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
