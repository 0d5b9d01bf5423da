import QMP

/// One `query-cpu-model-expansion` result, split into boolean features and other properties.
public struct CPUModelExpansion: Sendable, Equatable {
    /// The model name QEMU returned (`base` for an x86 static expansion).
    public var model: String
    /// Every property as QEMU returned it (its own names and values, in its order).
    public var props: JSONObject
    /// The properties QEMU marks deprecated (`deprecated-props`: s390x from 9.1, any target from 10.1), in its
    /// order; nil when QEMU does not say.
    public var deprecatedProps: [String]?

    /// Reads the `return` value of `query-cpu-model-expansion`.
    public init?(_ reply: JSON) {
        guard let model = reply["model"]?["name"]?.stringValue else { return nil }
        self.model = model
        self.props = reply["model"]?["props"]?.objectValue ?? [:]
        self.deprecatedProps = reply["deprecated-props"]?.arrayValue?.compactMap(\.stringValue)
    }

    /// An expansion from its parts.
    public init(model: String, props: JSONObject) {
        self.model = model
        self.props = props
    }

    /// Names of the boolean properties, with their values.
    public var booleans: [(String, Bool)] {
        props.compactMap { key, value in value.boolValue.map { (key, $0) } }
    }

    /// The boolean properties that are true, canonicalized with `names`; with `features` given,
    /// only those that are features (others are CPU options such as `check` or `l3-cache`).
    public func enabled(names: FeatureNames, features: Set<String>? = nil) -> Set<String> {
        var result = Set<String>()
        for (key, value) in props where value.boolValue == true {
            let name = names.canonical(key)
            if features == nil || features!.contains(name) { result.insert(name) }
        }
        return result
    }

    /// The non-boolean properties (family, model, model-id, level, ...), as QEMU named them.
    public var otherProperties: JSONObject {
        JSONObject(props.filter { $0.value.boolValue == nil }.map { ($0.key, $0.value) })
    }
}
