import QMP

/// CPU features whose realized value QEMU derives from the guest's topology rather than from the model, with the
/// QEMU versions that report them (x86, `target/i386/cpu.c`).
///
/// QEMU has always set CPUID.01H:EDX.HT, and on non-Intel vendors CPUID.80000001H:ECX.CmpLegacy, when a package
/// holds more than one logical processor. Up to 9.2 it set them only in the CPUID it hands the guest; from 10.0
/// (commits c6bd2dd63420 and 99a637a86f55) it sets them in the CPU's feature words, so the QOM properties `ht` and
/// `cmp-legacy` read on, and libvirt, which compares what QEMU reports, sees "extra features" it never asked for.
/// No machine-type compat property keeps the old report; `-ht` cannot switch them off.
package enum TopologyDerivedFeatures {
    /// One derived feature.
    package struct Entry: Sendable, Equatable {
        /// The feature (QEMU's canonical name).
        package var feature: String
        /// The CPUID bit, for the explanation.
        package var cpuid: String
        /// The first QEMU version that reports it as a feature.
        package var reportedSince: QEMUVersion
        /// A vendor for which QEMU does not derive it (CmpLegacy is not set on Intel).
        package var exceptVendor: String?
    }

    /// The table (x86).
    package static let x86: [Entry] = [
        Entry(feature: "ht", cpuid: "CPUID.01H:EDX.HT", reportedSince: QEMUVersion(major: 10, minor: 0, micro: 0)),
        Entry(feature: "cmp-legacy", cpuid: "CPUID.80000001H:ECX.CmpLegacy", reportedSince: QEMUVersion(major: 10, minor: 0, micro: 0),
              exceptVendor: "GenuineIntel"),
    ]

    /// The entry for `feature` when `cpu`'s QEMU reports it on because of its topology: its version reports it,
    /// its packages hold more than one logical processor, and its vendor is not excepted.
    package static func reported(_ feature: String, by cpu: RealizedCPU) -> Entry? {
        guard cpu.arch == nil || cpu.arch == "x86_64" || cpu.arch == "i386",
              let entry = x86.first(where: { $0.feature == feature }),
              cpu.version >= entry.reportedSince, (cpu.threadsPerPackage ?? 1) > 1,
              entry.exceptVendor == nil || cpu.properties["vendor"] != entry.exceptVendor else { return nil }
        return entry
    }

    /// Why `feature` is on in `on` and off in `off` (two realizations of one guest), when the topology explains it.
    package static func explanation(_ feature: String, on: RealizedCPU, off: RealizedCPU) -> String? {
        guard let entry = reported(feature, by: on), reported(feature, by: off) == nil else { return nil }
        let logical = on.threadsPerPackage.map { "\($0) logical processors per package" } ?? "several logical processors per package"
        let other = off.version < entry.reportedSince
            ? "QEMU \(off.version) sets \(entry.cpuid) in the guest's CPUID without reporting it as a feature, so the guest sees the same bit"
            : "the other side's topology does not give it"
        return "QEMU \(on.version) reports \(feature) because the guest has \(logical) (since QEMU \(entry.reportedSince)); \(other)"
    }
}
