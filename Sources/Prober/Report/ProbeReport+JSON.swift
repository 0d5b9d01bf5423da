import QMP

extension ProbeReport {
    /// The report as JSON, following `schemas/probe-report.schema.json` (stable keys, QEMU's order for models).
    public var json: JSON {
        var qemu: JSONObject = ["version": .string(version.description), "package": .string(version.package)]
        qemu["arch"] = arch.map(JSON.string) ?? .null
        if let binary { qemu["binary"] = .string(binary) }
        var accelerators = JSONObject()
        for accelerator in self.accelerators {
            var object = JSONObject()
            object["reference"] = accelerator.reference.map(JSON.string) ?? .null
            object["reference_kind"] = .string(accelerator.referenceKind.rawValue)
            object["host_model"] = accelerator.hostModel.map(\.json) ?? .null
            object["models"] = .array(accelerator.models.map(\.json))
            object["notes"] = .array(accelerator.notes.map(JSON.string))
            accelerators[accelerator.name] = .object(object)
        }
        return [
            "schema": .string(Self.schemaID),
            "qemu": .object(qemu),
            "source": .string(source),
            "accelerators": .object(accelerators),
        ]
    }
}

extension ProbeReport.HostModel {
    /// The host model as JSON.
    public var json: JSON {
        var object: JSONObject = ["name": .string(name), "model": .string(model), "method": .string(method)]
        object["props"] = .object(props)
        object["migratable"] = .array(migratable.map(JSON.string))
        object["non_migratable"] = migratabilityKnown ? .array(nonMigratable.map(JSON.string)) : .null
        // libvirt's per-property marks under QEMU's names, in the order of `props`; null when unknown.
        object["migratable_marks"] = migratabilityKnown
            ? .object(JSONObject(props.keys.compactMap { key in marks[key].map { (key, JSON.bool($0)) } })) : .null
        object["deprecated_props"] = deprecatedProps.map { .array($0.map(JSON.string)) } ?? .null
        return .object(object)
    }
}

extension ProbeReport.Model {
    /// The model as JSON; unknown values are `null`.
    public var json: JSON {
        func list(_ values: [String]?) -> JSON { values.map { .array($0.map(JSON.string)) } ?? .null }
        var object: JSONObject = ["name": .string(name)]
        object["typename"] = typename.map(JSON.string) ?? .null
        object["alias_of"] = aliasOf.map(JSON.string) ?? .null
        object["usable"] = usable.map(JSON.bool) ?? .null
        object["blockers"] = list(blockers)
        object["enabled"] = list(enabled)
        object["added"] = list(added)
        object["removed"] = list(removed)
        object["dropped"] = list(dropped)
        object["deprecated"] = deprecated.map(JSON.bool) ?? .null
        object["highlights"] = list(highlights)
        return .object(object)
    }
}
