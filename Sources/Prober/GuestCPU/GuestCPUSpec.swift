/// A guest CPU as the user asks for it: a model (`Haswell-noTSX`, `host`, `max`) and explicit feature
/// requests, parsed from a QEMU `-cpu` string (`Haswell-noTSX,+x2apic,-hle,vmx=off,model-id=Foo`).
public struct GuestCPUSpec: Sendable, Equatable, CustomStringConvertible {
    /// The model name.
    public var model: String
    /// Features the user turned on (`+f`, `f=on|true|yes`) or off (`-f`, `f=off|false|no`), QEMU's spellings, in order.
    public var features: [(name: String, enabled: Bool)]
    /// Other properties (`model-id=...`, `level=...`), verbatim.
    public var properties: [(name: String, value: String)]

    /// A spec from its parts.
    public init(model: String, features: [(name: String, enabled: Bool)] = [], properties: [(name: String, value: String)] = []) {
        self.model = model
        self.features = features
        self.properties = properties
    }

    /// Parses a `-cpu` string.
    /// - Throws: ``ProberError/invalidInput(_:)`` on an empty model or a malformed element.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let model = parts.first?.trimmingCharacters(in: .whitespaces), !model.isEmpty, !model.contains("=") else {
            throw ProberError.invalidInput("the CPU spec '\(text)' does not start with a model name")
        }
        self.init(model: model)
        for part in parts.dropFirst() {
            if part.hasPrefix("+") || part.hasPrefix("-") {
                let name = String(part.dropFirst())
                guard !name.isEmpty, !name.contains("=") else {
                    throw ProberError.invalidInput("malformed element '\(part)' in the CPU spec '\(text)'")
                }
                features.append((name, part.hasPrefix("+")))
            } else if let equals = part.firstIndex(of: "=") {
                let name = String(part[..<equals])
                let value = String(part[part.index(after: equals)...])
                guard !name.isEmpty else { throw ProberError.invalidInput("malformed element '\(part)' in the CPU spec '\(text)'") }
                switch value.lowercased() {
                case "on", "true", "yes": features.append((name, true))
                case "off", "false", "no": features.append((name, false))
                default: properties.append((name, value))
                }
            } else if !part.isEmpty {
                // QEMU's legacy form: a bare name turns a feature on.
                features.append((part, true))
            } else {
                throw ProberError.invalidInput("empty element in the CPU spec '\(text)'")
            }
        }
    }

    /// The last request for each feature (a later element overrides an earlier one, as in QEMU).
    public var requested: [String: Bool] {
        var result: [String: Bool] = [:]
        for (name, enabled) in features { result[name] = enabled }
        return result
    }

    /// The `-cpu` string (features as `+f`/`-f`).
    public var description: String {
        ([model] + features.map { ($0.enabled ? "+" : "-") + $0.name } + properties.map { "\($0.name)=\($0.value)" })
            .joined(separator: ",")
    }

    public static func == (lhs: GuestCPUSpec, rhs: GuestCPUSpec) -> Bool {
        lhs.model == rhs.model && lhs.features.map { "\($0.name)=\($0.enabled)" } == rhs.features.map { "\($0.name)=\($0.enabled)" }
            && lhs.properties.map { "\($0.name)=\($0.value)" } == rhs.properties.map { "\($0.name)=\($0.value)" }
    }
}
