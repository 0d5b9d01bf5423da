import Foundation

/// The `<cpu>` element of a libvirt domain XML (read by ``LibvirtDomain``).
///
/// Modes: `custom` (`<model>` plus `<feature policy=...>`), `host-model`, `host-passthrough` (QEMU's `host`) and
/// `maximum` (QEMU's `max`). Policies: `require`/`force` turn a feature on, `disable`/`forbid` off; `optional`
/// turns it on when the host can (so it is never reported as dropped). libvirt's feature spellings (`pclmuldq`,
/// `lahf_lm`, ...) map to QEMU's.
public struct LibvirtDomainCPU: Sendable, Equatable {
    /// The modes libvirt has.
    package static let modes = ["custom", "host-model", "host-passthrough", "maximum"]
    /// The feature policies libvirt has.
    package static let policies = ["require", "force", "optional", "disable", "forbid"]

    /// `custom`, `host-model`, `host-passthrough` or `maximum`.
    package var mode: String
    /// `none`, `partial` or `full`, when given.
    package var check: String?
    /// The `<model>` text, for custom mode.
    package var model: String?
    /// `(libvirt name, policy)` in document order.
    package var features: [FeatureRequest]
    /// `<topology>`'s members (`sockets`, `dies`, `clusters`, `cores`, `threads`), as given.
    package var topology: [String: Int] = [:]

    /// One `<feature>` element.
    package struct FeatureRequest: Sendable, Equatable {
        /// libvirt's feature name.
        package var name: String
        /// `require`, `force`, `optional`, `disable`, `forbid`.
        package var policy: String
    }

    /// A `<cpu>` from its parts.
    package init(mode: String, check: String?, model: String?, features: [FeatureRequest], topology: [String: Int] = [:]) {
        self.mode = mode
        self.check = check
        self.model = model
        self.features = features
        self.topology = topology
    }

    /// The `<cpu>` of a domain XML (or a bare `<cpu>` document).
    /// - Throws: ``ProberError/invalidInput(_:)`` for XML that is malformed or has no usable `<cpu>`.
    package init(xml: Data, source: String) throws {
        guard let cpu = try LibvirtDomain(xml: xml, source: source).cpu else {
            throw ProberError.invalidInput("\(source): no <cpu> element")
        }
        self = cpu
    }

    /// Reads the `<cpu>` of the domain XML at `path`.
    /// - Throws: ``ProberError/invalidInput(_:)`` when it cannot be read or has no usable `<cpu>`.
    package init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProberError.invalidInput("\(path): cannot be read")
        }
        try self.init(xml: data, source: path)
    }

    /// The QEMU model this `<cpu>` runs: the custom model; `host` for host-passthrough; `max` for maximum;
    /// for host-model, `host` under KVM and `max` otherwise (libvirt expands host-model from the same models).
    package func qemuModel(accelerator: String) -> String {
        switch mode {
        case "custom": return model ?? ""
        case "host-passthrough": return "host"
        case "maximum": return "max"
        default: return accelerator == "kvm" ? "host" : "max"
        }
    }

    /// Whether a policy turns the feature on (`require`, `force`, `optional`).
    package static func enables(policy: String) -> Bool { ["require", "force", "optional"].contains(policy) }

    /// The QEMU spec for `accelerator`: the model (`qemuModel(accelerator:)`) and the features, QEMU's spellings
    /// (`optional` kept as `CPUSpec/Request/optional`).
    public func spec(accelerator: String) -> CPUSpec {
        CPUSpec(model: qemuModel(accelerator: accelerator), features: features.map { feature in
            let request: CPUSpec.Request = feature.policy == "optional" ? .optional : (Self.enables(policy: feature.policy) ? .on : .off)
            return (LibvirtFeatureNames.qemuName(forLibvirt: feature.name), request)
        })
    }

    /// QEMU names of the features requested with `policy='optional'`.
    package var optionalFeatures: Set<String> {
        Set(features.filter { $0.policy == "optional" }.map { LibvirtFeatureNames.qemuName(forLibvirt: $0.name) })
    }
}
