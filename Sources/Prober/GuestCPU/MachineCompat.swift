import QMP

/// Machine-type compatibility properties that change x86 CPU features (QEMU's `hw/i386/pc.c` compat arrays):
/// on a machine type of version `upTo` or older, `feature` is forced to `enabled`. Used to attribute a
/// difference between machine types.
package enum MachineCompat {
    /// One compat property.
    package struct Entry: Sendable, Equatable {
        /// The feature.
        package var feature: String
        /// The value forced on old machine types.
        package var enabled: Bool
        /// The newest machine-type version it applies to (e.g. 1.7 for `pc-i440fx-1.7` and older).
        package var upTo: (Int, Int)
        /// Which models it applies to (nil: every model).
        package var models: Set<String>?

        package static func == (lhs: Entry, rhs: Entry) -> Bool {
            lhs.feature == rhs.feature && lhs.enabled == rhs.enabled && lhs.upTo == rhs.upTo && lhs.models == rhs.models
        }
    }

    /// The table (x86, facts from QEMU's sources and runs of 7.2).
    package static let x86: [Entry] = [
        Entry(feature: "x2apic", enabled: false, upTo: (1, 7), models: nil),
        Entry(feature: "svm", enabled: true, upTo: (2, 1), models: nil),
        Entry(feature: "arat", enabled: false, upTo: (2, 3),
              models: ["Westmere", "SandyBridge", "IvyBridge", "Haswell", "Haswell-noTSX", "Broadwell", "Broadwell-noTSX"]),
    ]

    /// The version of a versioned machine type (`pc-i440fx-2.3` → (2, 3), `pc-q35-7.2` → (7, 2)); nil for aliases.
    package static func version(of machine: String) -> (Int, Int)? {
        guard let dash = machine.lastIndex(of: "-") else { return nil }
        let parts = machine[machine.index(after: dash)...].split(separator: ".")
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }

    /// The compat entry that explains `feature` becoming `enabled` on `machine` for `model`, if any.
    package static func explanation(feature: String, enabled: Bool, machine: String?, model: String) -> Entry? {
        guard let machine, let version = version(of: machine) else { return nil }
        let base = model.split(separator: "-v").first.map(String.init) ?? model
        return x86.first {
            $0.feature == feature && $0.enabled == enabled && version <= $0.upTo
                && ($0.models == nil || $0.models!.contains(model) || $0.models!.contains(base))
        }
    }
}
