import QMP

extension GuestABIReport {
    /// The `schema` member of ``json``.
    package static let schema = "qmp-probe/guest-abi/1"

    private var firstSource: RealizedCPU? { pairs.first?.source }
    private var firstDestination: RealizedCPU? { pairs.lazy.compactMap(\.destination).first }

    private static func side(_ cpu: RealizedCPU?, origin: String) -> String {
        guard let cpu else { return "(nothing realized) [\(origin)]" }
        let package = cpu.version.package.isEmpty ? "" : " (\(cpu.version.package))"
        return "QEMU \(cpu.version)\(package) \(cpu.arch ?? "") \(cpu.binary ?? "")".trimmingCharacters(in: .whitespaces)
            + " [\(origin)]"
    }

    /// The readable view: the guest, both sides, then per machine type each difference with its cause and what
    /// libvirt does with it.
    public var text: String {
        var out = ""
        if let guest = firstSource {
            out += "guest: -cpu \(guest.cpu), smp \(guest.topologyDescription)"
                + (guest.threadsPerPackage.map { " (\($0) logical processor\($0 == 1 ? "" : "s") per package)" } ?? "") + ", \(guest.accelerator)\n"
        }
        out += "source:      \(Self.side(firstSource, origin: sourceOrigin))\n"
        out += "destination: \(Self.side(firstDestination, origin: destinationOrigin))\n"
        for pair in pairs {
            out += "\n"
            if let blocker = pair.blocker {
                out += "\(pair.machine): BLOCKED: \(blocker.reason)\n"
                continue
            }
            let extra = pair.differences.filter { $0.direction == .extra }.count
            let missing = pair.differences.filter { $0.direction == .missing }.count
            let changed = pair.differences.filter { $0.direction == .changed }.count
            if pair.differences.isEmpty {
                out += "\(pair.machine): identical (\(pair.source.values.count) features compared)\n"
                continue
            }
            out += "\(pair.machine): \(pair.differences.count) difference\(pair.differences.count == 1 ? "" : "s") (\(extra) extra, \(missing) missing"
                + (changed > 0 ? ", \(changed) changed" : "") + " on the destination)\n"
            for difference in pair.differences {
                let sign = difference.direction == .extra ? "+" : (difference.direction == .missing ? "-" : "~")
                out += "  \(sign)\(difference.feature)  src \(difference.src), dst \(difference.dst)  [\(difference.cause.rawValue)]\n"
                out += "      \(difference.detail)\n"
                out += "      check='full': \(difference.libvirtFull)\n"
                if difference.libvirtPartial != difference.libvirtFull {
                    out += "      check='partial': \(difference.libvirtPartial)\n"
                }
            }
        }
        out += "\n"
        if identical {
            out += "result: identical: the destination realizes the same CPU on \(pairs.count) machine type\(pairs.count == 1 ? "" : "s")\n"
        } else if differences.isEmpty {
            out += "result: blocked: the destination lacks \(blockers.count) of \(pairs.count) machine type\(pairs.count == 1 ? "" : "s")\n"
        } else {
            let differing = pairs.filter { !$0.differences.isEmpty }.count
            out += "result: \(differences.count) difference\(differences.count == 1 ? "" : "s") on \(differing) machine type\(differing == 1 ? "" : "s")"
                + (blockers.isEmpty ? "" : ", \(blockers.count) blocked") + "\n"
        }
        for note in notes { out += "note: \(note)\n" }
        return out
    }

    /// The report as JSON (`schemas/guest-abi.schema.json`): the guest, both sides with every realized value, a
    /// top-level `differences` array and the blockers.
    public var json: JSON {
        var object: JSONObject = ["schema": .string(Self.schema)]
        if let guest = firstSource {
            object["guest"] = [
                "cpu": .string(guest.cpu),
                "smp": guest.topology.map { .string($0.description) } ?? .null,
                "accelerator": .string(guest.accelerator),
                "machines": .array(pairs.map { .string($0.machine) }),
            ]
        } else {
            object["guest"] = .null
        }
        object["source"] = ["origin": .string(sourceOrigin), "realized": .array(pairs.map(\.source.json))]
        object["destination"] = ["origin": .string(destinationOrigin), "realized": .array(pairs.compactMap { $0.destination?.json })]
        object["differences"] = .array(differences.map { difference in
            func value(_ value: GuestABIDifference.Value) -> JSON {
                switch value {
                case .flag(let on): return .bool(on)
                case .text(let text): return .string(text)
                case .absent: return .null
                }
            }
            return [
                "feature": .string(difference.feature),
                "kind": .string(difference.isFeature ? "feature" : "property"),
                "libvirt_name": difference.isFeature ? (LibvirtFeatureNames.libvirtName(forQEMU: difference.feature).map(JSON.string) ?? .null) : .null,
                "machine": .string(difference.machine),
                "src": value(difference.src),
                "dst": value(difference.dst),
                "direction": .string(difference.direction.rawValue),
                "cause": .string(difference.cause.rawValue),
                "detail": .string(difference.detail),
                "libvirt": ["full": .string(difference.libvirtFull), "partial": .string(difference.libvirtPartial)],
            ]
        })
        object["blockers"] = .array(blockers.map { ["machine": .string($0.machine), "reason": .string($0.reason)] })
        object["identical"] = .bool(identical)
        object["notes"] = .array(notes.map(JSON.string))
        return .object(object)
    }

    /// The same information as XML, for checkers that read XML: `<guestABI>` with the guest, both sides, one
    /// `<machine>` per machine type holding its `<difference>` elements (or its `<blocker>`).
    public var xml: String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&apos;")
        }
        func side(_ tag: String, _ cpu: RealizedCPU?, _ origin: String) -> String {
            guard let cpu else { return "  <\(tag) origin='\(escape(origin))'/>" }
            return "  <\(tag) origin='\(escape(origin))' qemu='\(cpu.version)' package='\(escape(cpu.version.package))'"
                + " binary='\(escape(cpu.binary ?? ""))' arch='\(escape(cpu.arch ?? ""))'/>"
        }
        var lines = ["<guestABI identical='\(identical ? "yes" : "no")'>"]
        if let guest = firstSource {
            lines.append("  <guest cpu='\(escape(guest.cpu))' smp='\(escape(guest.topologyDescription))' accelerator='\(guest.accelerator)'/>")
        }
        lines.append(side("source", firstSource, sourceOrigin))
        lines.append(side("destination", firstDestination, destinationOrigin))
        for pair in pairs {
            if let blocker = pair.blocker {
                lines.append("  <machine name='\(escape(pair.machine))' identical='no'>")
                lines.append("    <blocker>\(escape(blocker.reason))</blocker>")
                lines.append("  </machine>")
                continue
            }
            lines.append("  <machine name='\(escape(pair.machine))' identical='\(pair.differences.isEmpty ? "yes" : "no")'>")
            for difference in pair.differences {
                let libvirtName = difference.isFeature ? LibvirtFeatureNames.libvirtName(forQEMU: difference.feature) : nil
                lines.append("    <difference \(difference.isFeature ? "feature" : "property")='\(escape(difference.feature))'"
                    + (libvirtName.map { " libvirtName='\(escape($0))'" } ?? "")
                    + " src='\(escape(difference.src.description))' dst='\(escape(difference.dst.description))'"
                    + " direction='\(difference.direction.rawValue)' cause='\(difference.cause.rawValue)'>")
                lines.append("      <detail>\(escape(difference.detail))</detail>")
                lines.append("      <check mode='full'>\(escape(difference.libvirtFull))</check>")
                lines.append("      <check mode='partial'>\(escape(difference.libvirtPartial))</check>")
                lines.append("    </difference>")
            }
            lines.append("  </machine>")
        }
        for note in notes { lines.append("  <note>\(escape(note))</note>") }
        lines.append("</guestABI>")
        return lines.joined(separator: "\n")
    }
}
