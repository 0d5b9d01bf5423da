import QMP

extension BaselineReport {
    /// The report as JSON, following `schemas/baseline-report.schema.json`; hosts are named by label.
    public var json: JSON {
        func names(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }
        func cpuJSON(_ cpu: BaselineCPU) -> JSON {
            var object: JSONObject = [
                "model": .string(cpu.model), "plus": names(cpu.plus), "minus": names(cpu.minus),
                "model_features_known": .bool(cpu.modelFeaturesKnown), "cpu": .string(cpu.cpuString),
                "libvirt_xml": .string(cpu.libvirtXML),
            ]
            object["rule"] = cpu.rule.map { .string($0.rawValue) } ?? .null
            object["model_vendor"] = cpu.modelVendor.map(JSON.string) ?? .null
            object["paravirtual"] = names(cpu.paravirtual)
            object["cost"] = cpu.cost.map { .int(Int64($0)) } ?? .null
            object["runs_everywhere"] = .bool(cpu.runsEverywhere)
            object["blocked_on"] = .array(cpu.blockedOn.map { block in
                ["hosts": names(block.hosts.map { hosts[$0].label }), "missing_model": .bool(block.missingModel),
                 "cannot_give": names(block.cannotGive), "unknown": names(block.unknown)]
            })
            return .object(object)
        }
        var sections = JSONObject()
        for accelerator in accelerators {
            var object = JSONObject()
            object["host_count"] = .int(Int64(hosts.count))
            object["usable_everywhere"] = names(accelerator.models.filter(\.usableEverywhere).map(\.name))
            object["shared_features"] = names(accelerator.shared)
            object["baseline"] = accelerator.baseline.map(cpuJSON) ?? .null
            object["checked"] = accelerator.checked.map(cpuJSON) ?? .null
            object["vendor"] = accelerator.vendor.map(JSON.string) ?? .null
            object["vendor_basis"] = .string(accelerator.vendorBasis)
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
