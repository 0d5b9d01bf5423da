import QMP

extension CompareReport {
    /// The question every verdict answers, as written in the JSON and the text.
    package static let question = "could a guest started on SRC run on DST? (live migration, or restoring a saved image: both need the same guest CPU)"

    /// The report as JSON, following `schemas/compare-report.schema.json`.
    public var json: JSON {
        func side(_ side: Side) -> JSON {
            var qemu: JSONObject = ["version": .string(side.version.description)]
            qemu["arch"] = side.arch.map(JSON.string) ?? .null
            return ["label": .string(side.label), "paths": .array(side.paths.map(JSON.string)), "qemu": .object(qemu)]
        }
        var sections = JSONObject()
        for accelerator in accelerators {
            let verdicts = accelerator.verdicts
            var object = JSONObject()
            object["src_reference"] = accelerator.sourceReference.map(JSON.string) ?? .null
            object["summary"] = [
                "models": .int(Int64(verdicts.count)),
                "compatible": .int(Int64(verdicts.filter(\.compatible).count)),
                "blocked": .int(Int64(verdicts.filter { !$0.compatible }.count)),
                "missing": .int(Int64(verdicts.filter(\.modelMissing).count)),
            ]
            object["models"] = .array(verdicts.map(\.json))
            object["notes"] = .array(accelerator.notes.map(JSON.string))
            sections[accelerator.name] = .object(object)
        }
        var object: JSONObject = ["schema": .string(Self.schemaID), "question": .string(Self.question)]
        object["src"] = side(source)
        object["dst"] = side(destination)
        object["cpu"] = cpu.map { .string($0.description) } ?? .null
        object["compatible"] = .bool(compatible)
        object["accelerators"] = .object(sections)
        return .object(object)
    }
}

extension ModelVerdict {
    /// The verdict as JSON; unknown values are `null`.
    package var json: JSON {
        func list(_ values: [String]?) -> JSON { values.map { .array($0.map(JSON.string)) } ?? .null }
        var object: JSONObject = ["model": .string(model)]
        object["spec"] = spec.map(JSON.string) ?? .null
        object["compatible"] = .bool(compatible)
        object["basis"] = .string(basis.rawValue)
        object["model_missing"] = .bool(modelMissing)
        object["dst_model"] = destinationModel.map(JSON.string) ?? .null
        object["src_model"] = sourceModel.map(JSON.string) ?? .null
        object["src_usable"] = sourceUsable.map(JSON.bool) ?? .null
        object["dst_usable"] = destinationUsable.map(JSON.bool) ?? .null
        object["guest"] = list(guest)
        object["filtered"] = list(filtered)
        object["added"] = list(added)
        object["blockers"] = .array(blockers.map { blocker in
            ["feature": .string(blocker.feature), "reason": .string(blocker.reason.rawValue),
             "added_by_src": .bool(blocker.addedBySource)]
        })
        return .object(object)
    }
}
