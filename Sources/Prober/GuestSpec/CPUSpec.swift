import Foundation

/// A guest CPU as the user asks for it: a model, feature switches and other CPU properties, from QEMU's `-cpu`
/// syntax (`MODEL[,+feat|-feat|feat=on|off|prop=value...]`) or a libvirt domain XML's `<cpu>` (``LibvirtDomainCPU``).
/// Feature names are QEMU's (libvirt's are translated). The one spec of the project: the guest CPU check reads it
/// with ``init(parsing:)`` (every element QEMU takes), the comparisons with ``parse(_:)`` (feature switches only).
public struct CPUSpec: Sendable, Equatable, CustomStringConvertible {
    /// What the spec asks of one feature.
    package enum Request: String, Sendable, Equatable {
        /// The feature must be on (`+feat`, `feat=on`, libvirt `require`/`force`).
        case on
        /// The feature must be off (`-feat`, `feat=off`, libvirt `disable`/`forbid`).
        case off
        /// On when the source host can give it, else off (libvirt `optional`).
        case optional
    }

    /// The CPU model name.
    public var model: String
    /// The feature switches in the order given (a later switch of the same feature wins).
    package var features: [(name: String, request: Request)]
    /// Other CPU properties (`model-id=...`, `level=...`), verbatim, in order.
    package var properties: [(name: String, value: String)]

    /// A spec from its parts.
    package init(model: String, features: [(name: String, request: Request)] = [], properties: [(name: String, value: String)] = []) {
        self.model = model
        self.features = features
        self.properties = properties
    }

    /// Parses a `-cpu` string as QEMU takes it (`CPUOptionString`): switches and bare names are features, other
    /// `name=value` elements are kept as properties.
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
            case .plus(let name), .bare(let name): features.append((name, .on))
            case .minus(let name): features.append((name, .off))
            case .assignment(let name, let value):
                if let enabled = CPUOptionString.Element.switchValue(value) {
                    features.append((name, enabled ? .on : .off))
                } else {
                    properties.append((name, value))
                }
            }
        }
    }

    /// The last request for each feature as on/off (`optional` asks for it on).
    package var requested: [String: Bool] { requests.mapValues { $0 != .off } }

    /// The features requested as optional.
    package var optionalFeatures: Set<String> { Set(requests.filter { $0.value == .optional }.keys) }

    /// The `-cpu` string QEMU is given: features as `+f`/`-f` (an optional one asked for on), then the properties.
    package var commandLine: String {
        ([model] + features.map { ($0.request == .off ? "-" : "+") + $0.name } + properties.map { "\($0.name)=\($0.value)" })
            .joined(separator: ",")
    }

    /// The final request per feature (later switches win).
    package var requests: [String: Request] {
        var result: [String: Request] = [:]
        for (name, request) in features { result[name] = request }
        return result
    }

    /// The spec in `-cpu` syntax (`optional` shown as `feat=optional`), properties last.
    public var description: String {
        ([model] + features.map { name, request in
            switch request {
            case .on: return "+\(name)"
            case .off: return "-\(name)"
            case .optional: return "\(name)=optional"
            }
        } + properties.map { "\($0.name)=\($0.value)" }).joined(separator: ",")
    }

    /// Same model, the same switches and the same properties, in the same order.
    public static func == (lhs: CPUSpec, rhs: CPUSpec) -> Bool {
        lhs.model == rhs.model && lhs.features.map(\.name) == rhs.features.map(\.name)
            && lhs.features.map(\.request) == rhs.features.map(\.request)
            && lhs.properties.map(\.name) == rhs.properties.map(\.name) && lhs.properties.map(\.value) == rhs.properties.map(\.value)
    }

    /// Parses QEMU's `-cpu` syntax (`CPUOptionString`), feature switches only:
    /// `MODEL[,+feat|-feat|feat=on|off|true|false|yes|no...]`.
    /// - Throws: ``ProberError/invalidInput(_:)`` for an empty model or an element that is not a feature switch
    ///   (other CPU properties and QEMU's legacy bare names are refused: a comparison could not account for them).
    public static func parse(_ text: String) throws -> CPUSpec {
        let option: CPUOptionString
        do {
            option = try CPUOptionString(text)
        } catch {
            switch error {
            case .noModel:
                throw ProberError.invalidInput("--cpu '\(text)': expected MODEL[,+feat|-feat|feat=on|off...], starting with a model name")
            case .emptyElement: throw ProberError.invalidInput("--cpu '\(text)': an empty switch")
            case .malformed(let part): throw ProberError.invalidInput("--cpu '\(text)': '\(part)' is not a feature switch")
            }
        }
        var features: [(name: String, request: Request)] = []
        for element in option.elements {
            switch element {
            case .plus(let name), .minus(let name):
                guard isFeatureName(name) else {
                    throw ProberError.invalidInput("--cpu '\(text)': '\(element.text)' is not a feature switch")
                }
                if case .plus = element { features.append((name, .on)) } else { features.append((name, .off)) }
            case .assignment(let name, let value):
                guard isFeatureName(name) else {
                    throw ProberError.invalidInput("--cpu '\(text)': '\(element.text)' is not a feature switch (+feat, -feat, feat=on|off)")
                }
                guard let enabled = CPUOptionString.Element.switchValue(value) else {
                    throw ProberError.invalidInput("--cpu '\(text)': '\(element.text)': only feature switches are supported (feat=on|off), not other CPU properties")
                }
                features.append((name, enabled ? .on : .off))
            case .bare:
                throw ProberError.invalidInput("--cpu '\(text)': '\(element.text)' is not a feature switch (+feat, -feat, feat=on|off)")
            }
        }
        return CPUSpec(model: option.model, features: features)
    }

    /// Reads the `<cpu>` element of a libvirt domain XML (or a bare `<cpu>` document) through ``LibvirtDomain``:
    /// `mode='custom'` (the default) with `<model>` and `<feature policy='require|force|optional|disable|forbid' name=...>`;
    /// `host-passthrough` is the `host` model and `maximum` the `max` model. `host-model` is refused: each host
    /// expands it from its own CPU, so it names no one CPU to compare.
    /// - Throws: ``ProberError/invalidInput(_:)`` naming `source` when there is no usable `<cpu>`.
    package static func parseDomainXML(_ data: Data, source: String) throws -> CPUSpec {
        guard let cpu = try LibvirtDomain(xml: data, source: source).cpu else {
            throw ProberError.invalidInput("\(source): no <cpu> element")
        }
        guard cpu.mode != "host-model" else {
            throw ProberError.invalidInput("\(source): <cpu mode='host-model'> is not supported here: each host expands it from its own CPU (use custom, host-passthrough or maximum)")
        }
        return cpu.spec(accelerator: "kvm")
    }

    private static func isFeatureName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}
