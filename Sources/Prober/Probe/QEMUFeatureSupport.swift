import QMP

/// Which CPU-related commands and fields a QEMU has, from `query-qmp-schema` (QEMU 2.5+) or `query-commands`.
public struct QEMUFeatureSupport: Sendable, Equatable {
    /// Every command QEMU knows (empty when neither introspection command answered).
    public var commands: Set<String> = []
    /// The expansion types `query-cpu-model-expansion` accepts (`static`, `full`), when the schema says.
    package var expansionTypes: [String]?
    /// The members of `CpuDefinitionInfo` (`unavailable-features`, `alias-of`, `deprecated`, ...), when the schema says.
    package var definitionFields: [String]?
    /// Where the answer came from: `query-qmp-schema`, `query-commands`, or nothing.
    public var source: String = "none"

    /// An empty answer (nothing known).
    package init() {}

    /// Whether QEMU has `command` (true when nothing is known, so callers try and degrade).
    public func has(_ command: String) -> Bool { commands.isEmpty || commands.contains(command) }

    /// Reads a `query-qmp-schema` reply.
    package init(schema: JSON) {
        let entities = schema.arrayValue ?? []
        var byName: [String: JSON] = [:]
        for entity in entities {
            if let name = entity["name"]?.stringValue { byName[name] = entity }
            if entity["meta-type"]?.stringValue == "command", let name = entity["name"]?.stringValue { commands.insert(name) }
        }
        func type(_ name: String?) -> JSON? {
            guard var name else { return nil }
            if name.hasPrefix("[") { name = String(name.dropFirst().dropLast()) }
            guard let entity = byName[name] else { return nil }
            if entity["meta-type"]?.stringValue == "array" { return type(entity["element-type"]?.stringValue) }
            return entity
        }
        func members(_ entity: JSON?) -> [JSON] { entity?["members"]?.arrayValue ?? [] }
        if let definitions = type(byName["query-cpu-definitions"]?["ret-type"]?.stringValue) {
            definitionFields = members(definitions).compactMap { $0["name"]?.stringValue }
        }
        if let arguments = type(byName["query-cpu-model-expansion"]?["arg-type"]?.stringValue),
           let typeMember = members(arguments).first(where: { $0["name"]?.stringValue == "type" }),
           let enumeration = type(typeMember["type"]?.stringValue) {
            expansionTypes = (enumeration["values"]?.arrayValue?.compactMap(\.stringValue))
                ?? enumeration["members"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        }
        source = "query-qmp-schema"
    }

    /// Reads a `query-commands` reply.
    package init(commandList: JSON) {
        commands = Set((commandList.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        source = "query-commands"
    }
}
