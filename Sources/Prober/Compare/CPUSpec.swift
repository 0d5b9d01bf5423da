import Foundation

/// A guest CPU as the user asks for it: a model and feature switches, from QEMU's `-cpu` syntax
/// (`MODEL[,+feat|-feat|feat=on|off...]`) or a libvirt domain XML's `<cpu>` (`<model>` and
/// `<feature policy=... name=...>`). Feature names are QEMU's (libvirt's are translated).
public struct CPUSpec: Sendable, Equatable, CustomStringConvertible {
    /// What the spec asks of one feature.
    public enum Request: String, Sendable, Equatable {
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
    public var features: [(name: String, request: Request)]

    /// A spec from its parts.
    public init(model: String, features: [(name: String, request: Request)] = []) {
        self.model = model
        self.features = features
    }

    /// The final request per feature (later switches win).
    public var requests: [String: Request] {
        var result: [String: Request] = [:]
        for (name, request) in features { result[name] = request }
        return result
    }

    /// The spec in `-cpu` syntax (`optional` shown as `feat=optional`).
    public var description: String {
        ([model] + features.map { name, request in
            switch request {
            case .on: return "+\(name)"
            case .off: return "-\(name)"
            case .optional: return "\(name)=optional"
            }
        }).joined(separator: ",")
    }

    /// Same model and the same switches in the same order.
    public static func == (lhs: CPUSpec, rhs: CPUSpec) -> Bool {
        lhs.model == rhs.model && lhs.features.map(\.name) == rhs.features.map(\.name)
            && lhs.features.map(\.request) == rhs.features.map(\.request)
    }

    /// Parses QEMU's `-cpu` syntax (``CPUOptionString``), feature switches only:
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
    public static func parseDomainXML(_ data: Data, source: String) throws -> CPUSpec {
        guard let cpu = try LibvirtDomain(xml: data, source: source).cpu else {
            throw ProberError.invalidInput("\(source): no <cpu> element")
        }
        guard cpu.mode != "host-model" else {
            throw ProberError.invalidInput("\(source): <cpu mode='host-model'> is not supported here: each host expands it from its own CPU (use custom, host-passthrough or maximum)")
        }
        let features: [(name: String, request: Request)] = cpu.features.map { feature in
            let name = LibvirtFeatureNames.qemuName(forLibvirt: feature.name)
            switch feature.policy {
            case "optional": return (name, .optional)
            case let policy: return (name, LibvirtDomainCPU.enables(policy: policy) ? .on : .off)
            }
        }
        return CPUSpec(model: cpu.qemuModel(accelerator: "kvm"), features: features)
    }

    private static func isFeatureName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}
