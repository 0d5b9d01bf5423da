import QMP

/// What each accelerator does to every x86 CPU model on its own (QEMU's `kvm_default_props` and
/// `tcg_default_props` in `target/i386/kvm/kvm-cpu.c` and `target/i386/tcg/tcg-cpu.c`), with the QEMU versions
/// each entry holds for. Used to attribute a feature change to "accelerator default".
package enum AcceleratorDefaults {
    /// One default: the accelerator sets `feature` to `enabled`, in QEMU `since` and later (up to `until`, exclusive).
    package struct Entry: Sendable, Equatable {
        /// The accelerator (`kvm`, `tcg`).
        package var accelerator: String
        /// The feature (QEMU's canonical name).
        package var feature: String
        /// The value forced.
        package var enabled: Bool
        /// First QEMU version with this default.
        package var since: QEMUVersion
        /// First QEMU version without it, if it was dropped.
        package var until: QEMUVersion?
    }

    private static func v(_ major: Int, _ minor: Int) -> QEMUVersion { QEMUVersion(major: major, minor: minor, micro: 0) }

    /// The table (x86).
    package static let x86: [Entry] = [
        Entry(accelerator: "kvm", feature: "kvmclock", enabled: true, since: v(1, 0)),
        Entry(accelerator: "kvm", feature: "kvm-nopiodelay", enabled: true, since: v(1, 0)),
        Entry(accelerator: "kvm", feature: "kvm-asyncpf", enabled: true, since: v(1, 0)),
        Entry(accelerator: "kvm", feature: "kvm-steal-time", enabled: true, since: v(1, 2)),
        Entry(accelerator: "kvm", feature: "kvm-pv-eoi", enabled: true, since: v(1, 3)),
        Entry(accelerator: "kvm", feature: "kvmclock-stable-bit", enabled: true, since: v(2, 1)),
        Entry(accelerator: "kvm", feature: "x2apic", enabled: true, since: v(2, 0)),
        Entry(accelerator: "kvm", feature: "acpi", enabled: false, since: v(1, 0)),
        Entry(accelerator: "kvm", feature: "monitor", enabled: false, since: v(1, 0)),
        Entry(accelerator: "kvm", feature: "svm", enabled: false, since: v(2, 2)),
        Entry(accelerator: "tcg", feature: "vme", enabled: false, since: v(2, 0)),
    ]

    /// Features that switch off with `svm` (QEMU's feature dependencies: SVM sub-features).
    package static let svmDependents: Set<String> = [
        "npt", "nrip-save", "lbrv", "tsc-scale", "vmcb-clean", "flushbyasid", "decodeassists", "pause-filter",
        "pfthreshold", "svme-addr-chk", "v-vmsave-vmload", "vgif", "avic", "svm-lock", "vnmi", "lbrv",
    ]

    /// The defaults of `accelerator` in QEMU `version` for `arch` (only x86 has a table).
    package static func entries(accelerator: String, version: QEMUVersion, arch: String?) -> [Entry] {
        guard arch == nil || arch == "x86_64" || arch == "i386" else { return [] }
        return x86.filter { $0.accelerator == accelerator && version >= $0.since && ($0.until.map { version < $0 } ?? true) }
    }

    /// Whether `accelerator` sets `feature` to `enabled` on its own in `version` (directly or, for SVM
    /// sub-features, through `svm=off`).
    package static func explains(feature: String, enabled: Bool, accelerator: String, version: QEMUVersion, arch: String?) -> Bool {
        let table = entries(accelerator: accelerator, version: version, arch: arch)
        if table.contains(where: { $0.feature == feature && $0.enabled == enabled }) { return true }
        return !enabled && svmDependents.contains(feature)
            && table.contains(where: { $0.feature == "svm" && !$0.enabled })
    }
}
