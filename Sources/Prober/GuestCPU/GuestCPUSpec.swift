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

    /// Parses a `-cpu` string (``CPUOptionString``): switches and bare names are features, other `name=value`
    /// elements are kept as properties.
    /// - Throws: ``ProberError/invalidInput(_:)`` on an empty model or a malformed element.
    public init(parsing text: String) throws {
        let option: CPUOptionString
        do {
            option = try CPUOptionString(text)
        } catch {
            switch error {
            case .noModel: throw ProberError.invalidInput("the CPU spec '\(text)' does not start with a model name")
            case .emptyElement: throw ProberError.invalidInput("empty element in the CPU spec '\(text)'")
            case .malformed(let part): throw ProberError.invalidInput("malformed element '\(part)' in the CPU spec '\(text)'")
            }
        }
        self.init(model: option.model)
        for element in option.elements {
            switch element {
            case .plus(let name), .bare(let name): features.append((name, true))
            case .minus(let name): features.append((name, false))
            case .assignment(let name, let value):
                if let enabled = CPUOptionString.Element.switchValue(value) {
                    features.append((name, enabled))
                } else {
                    properties.append((name, value))
                }
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
