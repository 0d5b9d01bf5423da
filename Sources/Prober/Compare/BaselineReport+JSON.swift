import QMP

extension BaselineReport {
    /// The report as JSON, following `schemas/baseline-report.schema.json`; hosts are named by label.
    public var json: JSON {
        func names(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }
        var sections = JSONObject()
        for accelerator in accelerators {
            var object = JSONObject()
            object["host_count"] = .int(Int64(hosts.count))
            object["usable_everywhere"] = names(accelerator.models.filter(\.usableEverywhere).map(\.name))
            object["shared_features"] = names(accelerator.shared)
            if let baseline = accelerator.baseline {
                object["baseline"] = [
                    "model": .string(baseline.model), "plus": names(baseline.plus), "minus": names(baseline.minus),
                    "model_features_known": .bool(baseline.modelFeaturesKnown), "cpu": .string(baseline.cpuString),
                    "libvirt_xml": .string(baseline.libvirtXML),
                ]
            } else {
                object["baseline"] = .null
            }
            object["models"] = .array(accelerator.models.map { row in
                var model: JSONObject = ["name": .string(row.name)]
                model["alias_of"] = row.aliasOf.map(JSON.string) ?? .null
                model["usable_on"] = .int(Int64(row.usableCount))
                model["usable_everywhere"] = .bool(row.usableEverywhere)
                model["blocked_by"] = .array(row.blockedBy.map { group in
                    ["hosts": names(group.hosts.map { hosts[$0].label }), "missing": .bool(group.missing),
                     "unknown": .bool(group.unknown), "blockers": names(group.blockers)]
                })
                return .object(model)
            })
            object["notes"] = names(accelerator.notes)
            sections[accelerator.name] = .object(object)
        }
        var object: JSONObject = ["schema": .string(Self.schemaID)]
        object["hosts"] = .array(hosts.map { host in
            var qemu: JSONObject = ["version": .string(host.version.description)]
            qemu["arch"] = host.arch.map(JSON.string) ?? .null
            return ["label": .string(host.label), "paths": names(host.paths), "qemu": .object(qemu)]
        })
        object["models_asked"] = askedModels.map(names) ?? .null
        object["satisfied"] = .bool(satisfied)
        object["accelerators"] = .object(sections)
        return .object(object)
    }
}
