import QMP

extension GuestCPUResult {
    /// This QEMU's feature names, to canonicalize the user's spellings.
    var names: FeatureNames { FeatureNames(canonical: prediction.featureNames, arch: arch) }

    /// The original CPU as libvirt `<cpu>` XML (`check='partial'`, libvirt's feature spellings).
    package var originalXML: String {
        var lines = ["<cpu mode='custom' match='exact' check='\(check ?? "partial")'>",
                     "  <model fallback='forbid'>\(Self.escape(prediction.original.model))</model>"] + (topologyElement.map { [$0] } ?? [])
        for (name, enabled) in prediction.original.requested.sorted(by: { $0.key < $1.key }) {
            lines.append(Self.featureElement(names.canonical(name), policy: enabled ? "require" : "disable"))
        }
        lines.append("</cpu>")
        return lines.joined(separator: "\n")
    }

    /// The updated CPU as libvirt `<cpu>` XML: `check='full'`, the user's features, and every feature QEMU added
    /// (`require`) or removed (`disable`), spelled as libvirt spells them. KVM/Hyper-V paravirtual features, which
    /// libvirt keeps in `<features>`, are listed in a comment.
    public var updatedXML: String {
        var policies: [String: String] = [:]
        for (name, enabled) in prediction.original.requested { policies[names.canonical(name)] = enabled ? "require" : "disable" }
        for change in added { policies[change.feature] = "require" }
        for change in dropped { policies[change.feature] = "disable" }
        var lines = ["<cpu mode='custom' match='exact' check='full'>",
                     "  <model fallback='forbid'>\(Self.escape(prediction.original.model))</model>"] + (topologyElement.map { [$0] } ?? [])
        let paravirtual = policies.keys.filter { !LibvirtFeatureNames.isCPUFeature($0) }.sorted()
        for (feature, policy) in policies.sorted(by: { $0.key < $1.key }) where LibvirtFeatureNames.isCPUFeature(feature) {
            lines.append(Self.featureElement(feature, policy: policy))
        }
        if !paravirtual.isEmpty {
            lines.append("  <!-- set by QEMU, configured under <features> in libvirt: "
                         + paravirtual.map { "\($0)=\(policies[$0] == "require" ? "on" : "off")" }.joined(separator: " ") + " -->")
        }
        lines.append("</cpu>")
        return lines.joined(separator: "\n")
    }

    /// A QEMU `-cpu` string that reproduces the updated CPU explicitly: the model, then every feature that
    /// differs from the original definition (and the user's own requests) as `+f`/`-f`.
    package var updatedCommandLine: String {
        var values: [String: Bool] = [:]
        for (name, enabled) in prediction.original.requested { values[names.canonical(name)] = enabled }
        for change in added { values[change.feature] = true }
        for change in dropped { values[change.feature] = false }
        return ([prediction.original.model] + values.sorted { $0.key < $1.key }.map { ($0.value ? "+" : "-") + $0.key }
            + prediction.original.properties.map { "\($0.name)=\($0.value)" }).joined(separator: ",")
    }

    /// libvirt's `<topology>` for the `-smp` members given (sockets, dies, clusters, cores, threads); nil without any.
    var topologyElement: String? {
        guard let topology else { return nil }
        let members = ["sockets", "dies", "clusters", "cores", "threads"].compactMap { key in
            topology.values[key].map { "\(key)='\($0)'" }
        }
        return members.isEmpty ? nil : "  <topology \(members.joined(separator: " "))/>"
    }

    static func featureElement(_ feature: String, policy: String) -> String {
        "  <feature policy='\(policy)' name='\(escape(LibvirtFeatureNames.libvirtName(forQEMU: feature) ?? feature))'/>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "'", with: "&apos;")
    }

    /// The `schema` member of ``json``: a saved result of another version is refused when read back.
    package static let schema = "qmp-probe/cpu-check/2"

    /// The result as JSON (`schemas/cpu-check.schema.json`).
    public var json: JSON {
        func changes(_ list: [FeatureChange]) -> JSON {
            .array(list.map { change in
                var object: JSONObject = ["feature": .string(change.feature), "enabled": .bool(change.enabled),
                                          "cause": .string(change.cause.rawValue)]
                object["detail"] = change.detail.map(JSON.string) ?? .null
                return .object(object)
            })
        }
        func names(_ set: Set<String>) -> JSON { .array(set.sorted().map(JSON.string)) }
        var object: JSONObject = ["schema": .string(Self.schema)]
        object["qemu"] = ["version": .string(version.description), "arch": arch.map(JSON.string) ?? .null]
        object["accelerator"] = .string(accelerator)
        object["smp"] = topology.map { .string($0.description) } ?? .null
        object["original"] = [
            "spec": .string(prediction.original.description),
            "features": names(prediction.requested),
            "xml": .string(originalXML),
        ]
        object["updated"] = [
            "features": names(updated),
            "xml": .string(updatedXML),
            "cpu": .string(updatedCommandLine),
        ]
        object["added"] = changes(added)
        object["dropped"] = changes(dropped)
        object["predicted"] = [
            "features": names(prediction.predicted),
            "added": changes(prediction.added),
            "dropped": changes(prediction.dropped),
            "blockers": .array(prediction.blockers.map(JSON.string)),
        ]
        object["realized"] = .array(realized.map(\.json))
        object["mismatches"] = .array(mismatches.map { mismatch in
            [
                "machine": mismatch.machine.map(JSON.string) ?? .null,
                "feature": .string(mismatch.feature),
                "predicted": .bool(mismatch.predicted),
                "realized": .bool(mismatch.realized),
                "cause": .string(mismatch.cause.rawValue),
                "detail": mismatch.detail.map(JSON.string) ?? .null,
            ]
        })
        object["notes"] = .array(prediction.notes.map(JSON.string))
        return .object(object)
    }

    /// The readable view: both definitions side by side, the changes with their causes, the mismatches.
    public var text: String {
        var out = "QEMU \(version) \(arch ?? ""), \(accelerator): \(prediction.original)"
            + (topology.map { ", smp \($0)" } ?? "") + "\n"
        out += realized.isEmpty ? "(predicted from expansions; --live starts a paused guest to verify)\n"
            : "(verified on a paused guest: " + realized.map { $0.machine ?? "default machine" }.joined(separator: ", ") + ")\n"
        func describe(_ change: FeatureChange) -> String {
            "  \(change.enabled ? "+" : "-")\(change.feature)  [\(change.cause.rawValue)\(change.detail.map { ": \($0)" } ?? "")]"
        }
        out += "\nadded by QEMU (\(added.count)):\n" + (added.isEmpty ? "  none\n" : added.map(describe).joined(separator: "\n") + "\n")
        out += "dropped (\(dropped.count)):\n" + (dropped.isEmpty ? "  none\n" : dropped.map(describe).joined(separator: "\n") + "\n")
        let mismatches = self.mismatches
        if !mismatches.isEmpty {
            out += "prediction vs realized CPU:\n"
            for mismatch in mismatches {
                out += "  \(mismatch.machine ?? "default"): \(mismatch.feature) predicted \(mismatch.predicted ? "on" : "off"), realized \(mismatch.realized ? "on" : "off")  [\(mismatch.cause.rawValue)\(mismatch.detail.map { ": \($0)" } ?? "")]\n"
            }
        }
        let differences = machineDifferences
        if !differences.isEmpty {
            out += "between machine types:\n"
            for (feature, values) in differences {
                out += "  \(feature): " + values.map { "\($0.machine ?? "default")=\($0.enabled ? "on" : "off")" }.joined(separator: " ") + "\n"
            }
        }
        out += "\noriginal:\n\(originalXML)\n\nupdated:\n\(updatedXML)\n\n-cpu \(updatedCommandLine)\n"
        for note in prediction.notes { out += "note: \(note)\n" }
        return out
    }
}
