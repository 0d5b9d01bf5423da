import QMP

/// A CPU model as QEMU's CPU-model commands take and return it (QAPI `CpuModelInfo`): a name and, optionally,
/// properties that change it (`{"name": "z14", "props": {"vx": false}}`).
package struct CPUModelInfo: Sendable, Equatable, CustomStringConvertible {
    /// The model name (`z14`, `gen15a-base`, `max`).
    package var name: String
    /// The properties set on top of the model, QEMU's names and values in order (empty: none).
    package var props: JSONObject

    /// A model from its parts.
    package init(name: String, props: JSONObject = [:]) {
        self.name = name
        self.props = props
    }

    /// The model an expansion returned (e.g. a host model's static expansion, to compare it with another host's).
    package init(_ expansion: CPUModelExpansion) {
        self.init(name: expansion.model, props: expansion.props)
    }

    /// The host model of a probe report, as QEMU returned it (the model and every property of the expansion):
    /// what QEMU compares when asked about two hosts' host models.
    package init(hostModel: ProbeReport.HostModel) {
        self.init(name: hostModel.model, props: hostModel.props)
    }

    /// Reads a `CpuModelInfo` value (`name` and optional `props`); nil when it has no name.
    package init?(json: JSON) {
        guard let name = json["name"]?.stringValue else { return nil }
        self.init(name: name, props: json["props"]?.objectValue ?? [:])
    }

    /// Parses QEMU's `-cpu` spelling: `NAME[,PROP=VALUE...]`, where `on`/`true` and `off`/`false` are booleans,
    /// integers are numbers and anything else a string; `+PROP` and a bare `PROP` mean `PROP=on`, `-PROP` means
    /// `PROP=off`.
    /// - Throws: ``ProberError/invalidInput(_:)`` for an empty name, an empty property or a property given twice.
    package init(parsing text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, !name.isEmpty else {
            throw ProberError.invalidInput("'\(text)': a CPU model is NAME[,PROP=VALUE...] and the name is missing")
        }
        var props = JSONObject()
        for part in parts.dropFirst() {
            let key: String
            let value: JSON
            if let equals = part.firstIndex(of: "=") {
                key = String(part[..<equals])
                value = Self.value(String(part[part.index(after: equals)...]))
            } else if part.hasPrefix("+") || part.hasPrefix("-") {
                key = String(part.dropFirst())
                value = .bool(part.hasPrefix("+"))
            } else {
                key = part
                value = .bool(true)
            }
            guard !key.isEmpty else {
                throw ProberError.invalidInput("'\(text)': an empty property in '\(part.isEmpty ? "," : part)'")
            }
            guard props[key] == nil else { throw ProberError.invalidInput("'\(text)': the property '\(key)' is given twice") }
            props[key] = value
        }
        self.init(name: name, props: props)
    }

    private static func value(_ text: String) -> JSON {
        switch text {
        case "on", "true": return .bool(true)
        case "off", "false": return .bool(false)
        default: return Int64(text).map(JSON.int) ?? .string(text)
        }
    }

    /// The `CpuModelInfo` argument (`props` only when there are some).
    package var json: JSON {
        var object: JSONObject = ["name": .string(name)]
        if !props.isEmpty { object["props"] = .object(props) }
        return .object(object)
    }

    /// `-cpu` spelling: `z14,vx=off` (strings and numbers as they are).
    package var description: String {
        ([name] + props.map { key, value in
            switch value {
            case .bool(let on): return "\(key)=\(on ? "on" : "off")"
            case .string(let string): return "\(key)=\(string)"
            default: return "\(key)=\(value.serialized())"
            }
        }).joined(separator: ",")
    }
}
