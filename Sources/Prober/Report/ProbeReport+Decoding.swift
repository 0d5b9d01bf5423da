import QMP

extension ProbeReport {
    /// Reads a report back from its JSON (`probe --json`, `schemas/probe-report.schema.json`).
    /// Unknown keys are ignored; `null` and absent optional values read as unknown.
    /// - Throws: ``ProberError/invalidInput(_:)`` naming `source` and the path of the bad value.
    public init(json: JSON, source: String) throws {
        let text = json.serializedBytes()
        try self.init(node: try text.withUnsafeBytes { try ParsedJSON(parsing: $0) }.rootNode, source: source)
    }

    /// Reads a report from the text of its JSON, straight from json-c's parse (no intermediate `JSON` value).
    /// - Throws: ``ProberError/invalidInput(_:)`` naming `source`, for text that is not JSON or not a report.
    public init(parsing bytes: [UInt8], source: String) throws {
        let document: ParsedJSON
        do {
            document = try bytes.withUnsafeBytes { try ParsedJSON(parsing: $0) }
        } catch {
            throw ProberError.invalidInput("\(source): not valid JSON (\(error))")
        }
        try self.init(node: document.rootNode, source: source)
    }

    /// Reads a report from a parsed document's node.
    package init(node json: ParsedJSON.Node, source: String) throws {
        let reader = ReportReader(source: source)
        guard json.isObject else { throw reader.error("", "expected a JSON object (a probe report)") }
        let schema = try reader.string(json["schema"], "schema")
        guard schema == Self.schemaID else {
            throw reader.error("schema", "unsupported schema '\(schema)' (this reader knows \(Self.schemaID))")
        }
        let qemu = try reader.object(json["qemu"], "qemu")
        let versionText = try reader.string(qemu["version"], "qemu.version")
        let parts = versionText.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 3 else { throw reader.error("qemu.version", "expected MAJOR.MINOR.MICRO, got '\(versionText)'") }
        version = QEMUVersion(major: parts[0], minor: parts[1], micro: parts[2],
                              package: try reader.optionalString(qemu["package"], "qemu.package") ?? "")
        arch = try reader.optionalString(qemu["arch"], "qemu.arch")
        binary = try reader.optionalString(qemu["binary"], "qemu.binary")
        self.source = try reader.optionalString(json["source"], "source") ?? source
        let sections = try reader.object(json["accelerators"], "accelerators")
        accelerators = try (sections.objectMembers ?? []).map { name, value in try reader.accelerator(name, value) }
    }
}

/// Reads the parts of a report, naming the file and JSON path of anything malformed.
private struct ReportReader {
    let source: String

    func error(_ path: String, _ message: String) -> ProberError {
        .invalidInput("\(source): not a valid probe report: \(path.isEmpty ? "" : "at \(path): ")\(message)")
    }

    func object(_ value: ParsedJSON.Node?, _ path: String) throws -> ParsedJSON.Node {
        guard let value, value.isObject else { throw error(path, value == nil ? "missing" : "expected an object") }
        return value
    }

    func string(_ value: ParsedJSON.Node?, _ path: String) throws -> String {
        guard let string = value?.stringValue else { throw error(path, value == nil ? "missing" : "expected a string") }
        return string
    }

    func optionalString(_ value: ParsedJSON.Node?, _ path: String) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard let string = value.stringValue else { throw error(path, "expected a string or null") }
        return string
    }

    func optionalBool(_ value: ParsedJSON.Node?, _ path: String) throws -> Bool? {
        guard let value, !value.isNull else { return nil }
        guard let bool = value.boolValue else { throw error(path, "expected true, false or null") }
        return bool
    }

    func optionalNames(_ value: ParsedJSON.Node?, _ path: String) throws -> [String]? {
        guard let value, !value.isNull else { return nil }
        if let strings = value.stringArray { return strings }
        guard let array = value.arrayElements else { throw error(path, "expected an array of strings or null") }
        return try array.enumerated().map { index, element in
            guard let string = element.stringValue else { throw error("\(path)[\(index)]", "expected a string") }
            return string
        }
    }

    func accelerator(_ name: String, _ value: ParsedJSON.Node) throws -> ProbeReport.Accelerator {
        let path = "accelerators.\(name)"
        let object = try self.object(value, path)
        var hostModel: ProbeReport.HostModel?
        if let host = object["host_model"], !host.isNull {
            hostModel = try self.hostModel(host, "\(path).host_model")
        }
        guard let models = object["models"]?.arrayElements else { throw error("\(path).models", "expected an array") }
        return ProbeReport.Accelerator(
            name: name, reference: try optionalString(object["reference"], "\(path).reference"), hostModel: hostModel,
            models: try models.enumerated().map { index, model in try self.model(model, "\(path).models[\(index)]") },
            notes: try optionalNames(object["notes"], "\(path).notes") ?? [])
    }

    func hostModel(_ value: ParsedJSON.Node, _ path: String) throws -> ProbeReport.HostModel {
        let object = try self.object(value, path)
        guard let props = try self.object(object["props"], "\(path).props").json.objectValue else {
            throw error("\(path).props", "expected an object")
        }
        let nonMigratable = try optionalNames(object["non_migratable"], "\(path).non_migratable")
        var marks: [String: Bool] = [:]
        if let markObject = object["migratable_marks"]?.objectMembers {
            for (key, mark) in markObject {
                guard let bool = mark.boolValue else { throw error("\(path).migratable_marks.\(key)", "expected a boolean") }
                marks[key] = bool
            }
        }
        return ProbeReport.HostModel(
            name: try string(object["name"], "\(path).name"), model: try string(object["model"], "\(path).model"),
            method: try string(object["method"], "\(path).method"), props: props, marks: marks,
            migratable: try optionalNames(object["migratable"], "\(path).migratable") ?? [],
            nonMigratable: nonMigratable ?? [], migratabilityKnown: nonMigratable != nil,
            deprecatedProps: try optionalNames(object["deprecated_props"], "\(path).deprecated_props"))
    }

    func model(_ value: ParsedJSON.Node, _ path: String) throws -> ProbeReport.Model {
        let object = try self.object(value, path)
        return ProbeReport.Model(
            name: try string(object["name"], "\(path).name"),
            typename: try optionalString(object["typename"], "\(path).typename"),
            aliasOf: try optionalString(object["alias_of"], "\(path).alias_of"),
            usable: try optionalBool(object["usable"], "\(path).usable"),
            blockers: try optionalNames(object["blockers"], "\(path).blockers"),
            enabled: try optionalNames(object["enabled"], "\(path).enabled"),
            added: try optionalNames(object["added"], "\(path).added"),
            removed: try optionalNames(object["removed"], "\(path).removed"),
            dropped: try optionalNames(object["dropped"], "\(path).dropped"),
            deprecated: try optionalBool(object["deprecated"], "\(path).deprecated"),
            highlights: try optionalNames(object["highlights"], "\(path).highlights") ?? [])
    }
}
