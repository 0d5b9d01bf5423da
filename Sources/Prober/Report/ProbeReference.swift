/// What an accelerator's `added`/`removed` are computed against, in one place: the rule that picks the reference
/// accelerator of the same QEMU, and the labels every output shows.
public enum ProbeReference {
    /// Where the reference came from.
    public enum Kind: String, Sendable, Equatable {
        /// TCG of the same QEMU, probed and reported too.
        case sameQEMU = "same-qemu"
        /// TCG of the same QEMU, probed only as the reference (a hardware accelerator probed alone).
        case probedForReference = "probed-for-reference"
        /// Another QEMU's result or recording (`--against FILE`).
        case external
        /// None: `added`/`removed` are unknown.
        case none
    }

    /// The label of TCG of the same QEMU, probed and reported too.
    package static let sameQEMULabel = "tcg in the same QEMU"
    /// The label of TCG of the same QEMU, probed only to be the reference.
    package static let probedForReferenceLabel = "tcg in the same QEMU, probed as the reference"

    /// The accelerator of the same QEMU that `accelerator` is compared against: TCG for a hardware accelerator
    /// (KVM, hvf: what they add on their own, such as KVM's `x2apic` and paravirtual features, is what TCG does not
    /// give), none for TCG itself, which is the reference.
    package static func accelerator(for accelerator: String) -> String? {
        QEMUTarget.hardwareAccelerators.contains(accelerator) ? "tcg" : nil
    }

    /// The kind of a report's reference label (nil: none).
    package static func kind(of label: String?) -> Kind {
        switch label {
        case nil: return .none
        case sameQEMULabel?: return .sameQEMU
        case probedForReferenceLabel?: return .probedForReference
        default: return .external
        }
    }

    /// Why `accelerator` has no reference, for the outputs that say so.
    package static func absence(for accelerator: String) -> String {
        if Self.accelerator(for: accelerator) == nil {
            return "no reference: \(accelerator) is the reference of the hardware accelerators (--against FILE compares with another QEMU)"
        }
        return "no reference: no TCG session of this QEMU was probed or recorded (--against FILE gives one)"
    }

    /// The reference of each probe in `probes` (by accelerator name): an external one from `against`, else the
    /// reference accelerator's probe of the same QEMU, labelled ``sameQEMULabel``.
    static func references(_ probes: [AcceleratorProbe], against: [String: (label: String, probe: AcceleratorProbe)])
        -> [String: (label: String, probe: AcceleratorProbe)] {
        let byName = Dictionary(probes.map { ($0.accelerator, $0) }, uniquingKeysWith: { first, _ in first })
        var references: [String: (label: String, probe: AcceleratorProbe)] = [:]
        for probe in probes {
            if let external = against[probe.accelerator] {
                references[probe.accelerator] = external
            } else if let name = accelerator(for: probe.accelerator), let reference = byName[name] {
                references[probe.accelerator] = (sameQEMULabel, reference)
            }
        }
        return references
    }
}
