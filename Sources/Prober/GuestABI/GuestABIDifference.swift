/// One way in which the destination realizes a guest's CPU differently from the source: a feature on one side and
/// off on the other, or an identity property (`family`, `model-id`, ...) with another value; with its cause and
/// what libvirt makes of it.
public struct GuestABIDifference: Sendable, Equatable {
    /// A realized value on one side.
    package enum Value: Sendable, Equatable, CustomStringConvertible {
        /// A feature, on or off.
        case flag(Bool)
        /// A property's value.
        case text(String)
        /// That side's QEMU has no such feature or property.
        case absent

        /// `on`, `off`, the value, or `absent`.
        package var description: String {
            switch self {
            case .flag(let on): return on ? "on" : "off"
            case .text(let text): return text
            case .absent: return "absent"
            }
        }

        /// Whether this is a feature that is on.
        package var isOn: Bool { self == .flag(true) }
    }

    /// Which way a feature changed.
    public enum Direction: String, Sendable, Equatable {
        /// On on the destination, off (or absent) on the source: libvirt's "extra features".
        case extra
        /// On on the source, off (or absent) on the destination: libvirt's "missing features".
        case missing
        /// A property with another value.
        case changed
    }

    /// The feature's canonical name (QEMU's spelling), or the property's name.
    public var feature: String
    /// Whether ``feature`` is a CPU feature (else an identity property).
    package var isFeature: Bool
    /// The machine type (as resolved on the source).
    public var machine: String
    /// The source's value.
    package var src: Value
    /// The destination's value.
    package var dst: Value
    /// Which way it changed.
    public var direction: Direction
    /// Why.
    public var cause: FeatureCause
    /// The cause in words: the compat property, the topology, the table entry, the filtering side.
    public var detail: String
    /// What libvirt does with `check='full'` (and with every migration and restore, which carry that check).
    public var libvirtFull: String
    /// What libvirt does with `check='partial'` at a new start.
    package var libvirtPartial: String

    /// A difference from its parts; the direction and libvirt's verdicts follow from them (`libvirtVerdicts(feature:direction:src:dst:cause:)`).
    package init(feature: String, isFeature: Bool, machine: String, src: Value, dst: Value, cause: FeatureCause, detail: String) {
        self.feature = feature
        self.isFeature = isFeature
        self.machine = machine
        self.src = src
        self.dst = dst
        self.cause = cause
        self.detail = detail
        direction = !isFeature ? .changed : (dst.isOn ? .extra : .missing)
        (libvirtFull, libvirtPartial) = Self.libvirtVerdicts(feature: feature, direction: direction, src: src, dst: dst, cause: cause)
    }

    /// What libvirt does with a difference. libvirt starts the destination with the source's *updated* CPU: the
    /// model plus every feature QEMU added (`require`) and every model feature it filtered (`disable`); features
    /// outside the model that were off are not named. So a feature the source filtered is switched off explicitly
    /// on the destination, and a feature the source had is asked for explicitly; what remains are features the
    /// destination turns on by itself (extra) and features it cannot give (missing).
    static func libvirtVerdicts(feature: String, direction: Direction, src: Value, dst: Value,
                                cause: FeatureCause) -> (full: String, partial: String) {
        let name = LibvirtFeatureNames.libvirtName(forQEMU: feature) ?? feature
        switch direction {
        case .changed:
            let text = "not compared by libvirt: the guest sees \(feature) change from \(src) to \(dst) after migration or restore"
            return (text, text)
        case _ where !LibvirtFeatureNames.isCPUFeature(feature):
            let text = "not a CPU feature to libvirt (configured under <features>): not compared; the guest sees it \(direction == .extra ? "appear" : "vanish")"
            return (text, text)
        case .extra where cause == .hostFiltering:
            let text = "passes: libvirt's updated CPU disables \(name) (the source filtered it), so the destination starts with -\(feature); a guest started with the same -cpu without libvirt sees \(feature) appear"
            return (text, text)
        case .extra:
            return ("the destination refuses the guest: guest CPU doesn't match specification: extra features: \(name)",
                    "a new start passes and libvirt records \(name) as required; migration and restore carry check='full' and fail: extra features: \(name)")
        case .missing where cause == .topology:
            return ("the destination refuses the guest: guest CPU doesn't match specification: missing features: \(name) (libvirt's updated CPU requires it, and the destination's QEMU does not report it as a feature)",
                    "a new start passes; migration and restore carry check='full' and fail: missing features: \(name)")
        case .missing where cause == .hostFiltering:
            return ("the destination refuses the guest: guest CPU doesn't match specification: missing features: \(name)",
                    "a new start fails: the host cannot give the required \(name) (checked against the host model); migration and restore carry check='full' and fail: missing features: \(name)")
        case .missing:
            let text = "passes: libvirt's updated CPU requires \(name), so the destination starts with +\(feature) and turns it on; a guest started with the same -cpu without libvirt loses \(feature)"
            return (text, text)
        }
    }
}

/// Why the destination cannot realize the guest at all.
public struct GuestABIBlocker: Sendable, Equatable {
    /// The machine type.
    public var machine: String
    /// What stands in the way, in words.
    public var reason: String

    /// A blocker from its parts.
    package init(machine: String, reason: String) {
        self.machine = machine
        self.reason = reason
    }
}
