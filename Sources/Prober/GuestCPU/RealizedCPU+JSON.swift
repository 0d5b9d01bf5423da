import QMP

extension RealizedCPU {
    /// The realized CPU as JSON: one entry of `realized` in `schemas/cpu-check.schema.json`, and one side of
    /// `schemas/guest-abi.schema.json`. Everything a later comparison needs: QEMU, machine type, topology,
    /// accelerator and every feature's value.
    package var json: JSON {
        var object: JSONObject = [:]
        object["machine"] = machine.map(JSON.string) ?? .null
        object["machine_resolved"] = resolvedMachine.map(JSON.string) ?? .null
        object["qemu"] = ["version": .string(version.description), "package": .string(version.package),
                          "binary": binary.map(JSON.string) ?? .null]
        object["arch"] = arch.map(JSON.string) ?? .null
        object["accelerator"] = .string(accelerator)
        object["cpu"] = .string(cpu)
        object["smp"] = topology.map { .string($0.description) } ?? .null
        object["topology"] = .object(JSONObject((topology ?? .single).members.map { ($0.key, JSON.int(Int64($0.value))) }))
        object["threads_per_package"] = threadsPerPackage.map { .int(Int64($0)) } ?? .null
        object["vcpus"] = vcpus.map { .int(Int64($0)) } ?? .null
        object["features"] = .array(features.sorted().map(JSON.string))
        object["values"] = .object(JSONObject(values.sorted { $0.key < $1.key }.map { ($0.key, JSON.bool($0.value)) }))
        object["properties"] = .object(JSONObject(properties.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))
        object["unavailable_features"] = unavailable.map { .array($0.map(JSON.string)) } ?? .null
        object["compat_props"] = compatProperties.map { list in
            .array(list.map { ["qom-type": .string($0.type), "property": .string($0.property), "value": .string($0.value)] })
        } ?? .null
        object["path"] = .string(path)
        object["method"] = .string(method)
        object["commands"] = .int(Int64(commands))
        return .object(object)
    }

    /// Reads one saved realized CPU (``json``); `source` and `at` name it in errors.
    /// - Throws: ``ProberError/invalidInput(_:)`` naming the member that is missing or of the wrong type.
    package init(json: JSON, source: String, at path: String) throws {
        func fail(_ member: String, _ expected: String) -> ProberError {
            ProberError.invalidInput("\(source): at \(path).\(member): expected \(expected)")
        }
        func string(_ member: String) throws -> String {
            guard let value = json[member]?.stringValue else { throw fail(member, "a string") }
            return value
        }
        func optionalString(_ member: String) throws -> String? {
            guard let value = json[member], !value.isNull else { return nil }
            guard let text = value.stringValue else { throw fail(member, "a string or null") }
            return text
        }
        func optionalInt(_ member: String) throws -> Int? {
            guard let value = json[member], !value.isNull else { return nil }
            guard let number = value.int64Value else { throw fail(member, "an integer or null") }
            return Int(number)
        }
        guard let qemu = json["qemu"]?.objectValue, let versionText = qemu["version"]?.stringValue else {
            throw fail("qemu.version", "a string")
        }
        let parts = versionText.split(separator: ".").map { Int($0) }
        guard parts.count == 3, let major = parts[0], let minor = parts[1], let micro = parts[2] else {
            throw fail("qemu.version", "MAJOR.MINOR.MICRO")
        }
        guard let valuesObject = json["values"]?.objectValue else { throw fail("values", "an object of booleans") }
        var values: [String: Bool] = [:]
        for (name, value) in valuesObject {
            guard let on = value.boolValue else { throw fail("values.\(name)", "a boolean") }
            values[name] = on
        }
        guard let propertiesObject = json["properties"]?.objectValue else { throw fail("properties", "an object of strings") }
        var properties: [String: String] = [:]
        for (name, value) in propertiesObject {
            guard let text = value.stringValue else { throw fail("properties.\(name)", "a string") }
            properties[name] = text
        }
        var unavailable: [String]?
        if let list = json["unavailable_features"], !list.isNull {
            guard let names = list.arrayValue?.compactMap(\.stringValue), names.count == list.arrayValue?.count else {
                throw fail("unavailable_features", "an array of strings or null")
            }
            unavailable = names
        }
        var compat: [CompatProperty]?
        if let list = json["compat_props"], !list.isNull {
            guard let items = list.arrayValue else { throw fail("compat_props", "an array or null") }
            compat = try items.map { item in
                guard let type = item["qom-type"]?.stringValue, let property = item["property"]?.stringValue,
                      let value = item["value"]?.stringValue else { throw fail("compat_props", "{qom-type, property, value} strings") }
                return CompatProperty(type: type, property: property, value: value)
            }
        }
        let qemuPackage = qemu["package"]?.stringValue ?? ""
        self.init(version: QEMUVersion(major: major, minor: minor, micro: micro, package: qemuPackage),
                  binary: qemu["binary"]?.stringValue, arch: try optionalString("arch"),
                  accelerator: try string("accelerator"), cpu: try string("cpu"), machine: try optionalString("machine"),
                  resolvedMachine: try optionalString("machine_resolved"),
                  topology: try optionalString("smp").map(SMPTopology.init(parsing:)),
                  threadsPerPackage: try optionalInt("threads_per_package"), vcpus: try optionalInt("vcpus"),
                  values: values, properties: properties, unavailable: unavailable, compatProperties: compat,
                  path: try string("path"), method: try string("method"), commands: try optionalInt("commands") ?? 0)
    }
}
