/// Compares two realizations of one guest, feature by feature, and names the cause of every difference (pure;
/// tested without QEMU).
///
/// Causes, tried in this order:
/// - `host-filtering`: the side where the feature is off filtered it (it is in that side's realized
///   `unavailable-features`): its host or accelerator cannot give it;
/// - `topology`: the side where it is on reports it because of the guest's topology (``TopologyDerivedFeatures``);
/// - `machine-type-compat`: a compat property of the machine type sets it on one side (QEMU's own list, 9.1+, or
///   ``MachineCompat`` when the two sides resolved different machine types);
/// - `accelerator-default`: the accelerator's defaults (``AcceleratorDefaults``) differ between the two versions;
/// - `unexplained`: a change between the QEMU versions that none of these covers: a finding.
package enum GuestABIComparison {
    /// The differences between `src` and `dst`, features first (by name), then identity properties.
    package static func differences(src: RealizedCPU, dst: RealizedCPU) -> [GuestABIDifference] {
        let machine = src.resolvedMachine ?? src.machine ?? "default"
        // The two QEMUs may spell a feature differently: compare by normalized key, show the source's spelling.
        var srcByKey: [String: (String, Bool)] = [:]
        for (name, on) in src.values { srcByKey[FeatureNames.key(name)] = (name, on) }
        var dstByKey: [String: (String, Bool)] = [:]
        for (name, on) in dst.values { dstByKey[FeatureNames.key(name)] = (name, on) }
        let srcFiltered = Set((src.unavailable ?? []).map(FeatureNames.key))
        let dstFiltered = Set((dst.unavailable ?? []).map(FeatureNames.key))

        var result: [GuestABIDifference] = []
        for key in Set(srcByKey.keys).union(dstByKey.keys).sorted() {
            let srcValue = srcByKey[key].map { GuestABIDifference.Value.flag($0.1) } ?? .absent
            let dstValue = dstByKey[key].map { GuestABIDifference.Value.flag($0.1) } ?? .absent
            guard srcValue.isOn != dstValue.isOn else { continue }
            let name = srcByKey[key]?.0 ?? dstByKey[key]!.0
            let (cause, detail) = attribute(feature: name, key: key, src: src, dst: dst, dstOn: dstValue.isOn,
                                            srcFiltered: srcFiltered, dstFiltered: dstFiltered,
                                            offIsAbsent: srcValue == .absent || dstValue == .absent)
            result.append(GuestABIDifference(feature: name, isFeature: true, machine: machine, src: srcValue, dst: dstValue,
                                             cause: cause, detail: detail))
        }
        for property in RealizedCPU.identityProperties {
            let srcValue = src.properties[property].map(GuestABIDifference.Value.text) ?? .absent
            let dstValue = dst.properties[property].map(GuestABIDifference.Value.text) ?? .absent
            guard srcValue != dstValue, srcValue != .absent, dstValue != .absent else { continue }
            let (cause, detail) = compatCause(property: property, src: src, dst: dst)
                ?? (.unexplained, "changed between QEMU \(src.version) and \(dst.version); no compat property of \(machine) covers it")
            result.append(GuestABIDifference(feature: property, isFeature: false, machine: machine, src: srcValue, dst: dstValue,
                                             cause: cause, detail: detail))
        }
        return result
    }

    private static func attribute(feature: String, key: String, src: RealizedCPU, dst: RealizedCPU, dstOn: Bool,
                                  srcFiltered: Set<String>, dstFiltered: Set<String>,
                                  offIsAbsent: Bool) -> (FeatureCause, String) {
        let (on, off) = dstOn ? (dst, src) : (src, dst)
        let offSide = dstOn ? "source" : "destination"
        if (dstOn ? srcFiltered : dstFiltered).contains(key) {
            let who = off.accelerator == "tcg" ? "TCG in QEMU \(off.version) does not emulate it" : "that host cannot give it to QEMU \(off.version) under \(off.accelerator)"
            return (.hostFiltering, "filtered by the \(offSide) (in its unavailable-features): \(who)")
        }
        if let explanation = TopologyDerivedFeatures.explanation(feature, on: on, off: off) {
            return (.topology, explanation)
        }
        if let compat = compatCause(property: feature, src: src, dst: dst) { return compat }
        if let srcMachine = src.resolvedMachine, let dstMachine = dst.resolvedMachine, srcMachine != dstMachine {
            let model = src.cpu.prefix { $0 != "," }
            for (side, cpu) in [("source", src), ("destination", dst)] {
                let value = cpu.values[feature] ?? false
                if let entry = MachineCompat.explanation(feature: feature, enabled: value, machine: cpu.resolvedMachine,
                                                         model: String(model)) {
                    return (.machineCompat, "the \(side) runs \(cpu.resolvedMachine ?? ""), \(entry.upTo.0).\(entry.upTo.1) or older: \(feature)=\(value ? "on" : "off")")
                }
            }
        }
        // The side whose value an accelerator default sets (on for the side where it is on, off for the other), in
        // that side's version but not in the other's.
        func sets(_ cpu: RealizedCPU, _ enabled: Bool) -> Bool {
            AcceleratorDefaults.explains(feature: feature, enabled: enabled, accelerator: cpu.accelerator, version: cpu.version, arch: cpu.arch)
        }
        for (side, other, enabled) in [(on, off, true), (off, on, false)] where sets(side, enabled) != sets(other, enabled) {
            return (.acceleratorDefault, "\(side.accelerator) sets \(feature)=\(enabled ? "on" : "off") in QEMU \(side.version), not in QEMU \(other.version)")
        }
        // A side without the feature at all is the side where it is off.
        if offIsAbsent {
            return (.unexplained, "QEMU \(off.version) has no feature \(feature); QEMU \(on.version) turns it on for this guest")
        }
        return (.unexplained, "changed between QEMU \(src.version) and \(dst.version); no compat property of \(src.resolvedMachine ?? "the machine type"), topology rule or accelerator default covers it")
    }

    /// A compat property of the machine type, on either side, that sets `property` on a CPU type.
    private static func compatCause(property: String, src: RealizedCPU, dst: RealizedCPU) -> (FeatureCause, String)? {
        let key = FeatureNames.key(property)
        for (side, cpu) in [("destination", dst), ("source", src)] {
            guard let entry = cpu.compatProperties?.first(where: { FeatureNames.key($0.property) == key }) else { continue }
            let other = (side == "source" ? dst : src)
            let otherHas = other.compatProperties?.contains(entry) ?? false
            guard !otherHas else { continue }
            return (.machineCompat, "\(cpu.resolvedMachine ?? "the machine type") in QEMU \(cpu.version) (\(side)) sets \(entry.type).\(entry.property)=\(entry.value)"
                    + (other.compatProperties == nil ? "; QEMU \(other.version) does not list its compat properties" : ""))
        }
        return nil
    }
}
