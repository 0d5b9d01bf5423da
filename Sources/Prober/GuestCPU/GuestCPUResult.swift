import QMP

/// The outcome of a guest CPU check: the prediction, and for each machine type the realized CPU and where it
/// disagrees with the prediction.
public struct GuestCPUResult: Sendable {
    /// One disagreement between prediction and realized CPU.
    package struct Mismatch: Sendable, Equatable {
        /// The machine type.
        package var machine: String?
        /// The feature.
        package var feature: String
        /// What the prediction said.
        package var predicted: Bool
        /// What QEMU realized.
        package var realized: Bool
        /// The cause, when a table explains it (a machine-type compat property).
        package var cause: FeatureCause
        /// More about the cause.
        package var detail: String?
    }

    /// QEMU's version.
    package var version: QEMUVersion
    /// The target arch.
    package var arch: String?
    /// The accelerator.
    package var accelerator: String
    /// The prediction.
    package var prediction: GuestCPUPrediction
    /// Realized CPUs, one per machine type asked for (empty without `--live`).
    package var realized: [RealizedCPU]
    /// The libvirt `check` mode, when the input was a domain XML.
    package var check: String?
    /// The guests' `-smp` topology (nil: QEMU's default, one vCPU).
    package var topology: SMPTopology? = nil

    /// Feature by feature, where each realized CPU disagrees with the prediction.
    package var mismatches: [Mismatch] {
        var result: [Mismatch] = []
        for cpu in realized {
            for feature in prediction.predicted.symmetricDifference(cpu.features).sorted() {
                let realizedValue = cpu.features.contains(feature)
                if let entry = MachineCompat.explanation(feature: feature, enabled: realizedValue, machine: cpu.machine,
                                                         model: prediction.original.model) {
                    result.append(Mismatch(machine: cpu.machine, feature: feature, predicted: !realizedValue, realized: realizedValue,
                                           cause: .machineCompat,
                                           detail: "\(cpu.machine ?? "") is \(entry.upTo.0).\(entry.upTo.1) or older: \(feature)=\(realizedValue ? "on" : "off")"))
                } else if realizedValue, let entry = TopologyDerivedFeatures.reported(feature, by: cpu) {
                    result.append(Mismatch(machine: cpu.machine, feature: feature, predicted: false, realized: true, cause: .topology,
                                           detail: "QEMU \(cpu.version) reports \(feature) (\(entry.cpuid)) when a package has more than one logical processor (here \(cpu.threadsPerPackage ?? 0))"))
                } else {
                    result.append(Mismatch(machine: cpu.machine, feature: feature, predicted: !realizedValue, realized: realizedValue,
                                           cause: .unexplained, detail: nil))
                }
            }
        }
        return result
    }

    /// The features of the updated CPU: the first realized one, or the prediction.
    package var updated: Set<String> { realized.first?.features ?? prediction.predicted }

    /// Features the guest gets that were not asked for (against the updated CPU), with causes.
    public var added: [FeatureChange] { changes(enabled: true) }
    /// Features asked for that the guest does not get (against the updated CPU), with causes.
    public var dropped: [FeatureChange] { changes(enabled: false) }

    private func changes(enabled: Bool) -> [FeatureChange] {
        let predictedChanges = Dictionary((enabled ? prediction.added : prediction.dropped).map { ($0.feature, $0) },
                                          uniquingKeysWith: { a, _ in a })
        let features = enabled ? updated.subtracting(prediction.requested) : prediction.requested.subtracting(updated)
        let mismatchByFeature = Dictionary(mismatches.filter { $0.machine == realized.first?.machine }.map { ($0.feature, $0) },
                                           uniquingKeysWith: { a, _ in a })
        return features.sorted().map { feature in
            if let change = predictedChanges[feature] { return change }
            let mismatch = mismatchByFeature[feature]
            return FeatureChange(feature: feature, enabled: enabled, cause: mismatch?.cause ?? .unexplained, detail: mismatch?.detail)
        }.filter { enabled || !prediction.optional.contains($0.feature) }
    }

    /// Whether the guest gets exactly what was asked for.
    package var exact: Bool { added.isEmpty && dropped.isEmpty }

    /// Differences between the machine types checked, feature by feature (`feature`: machine → on/off).
    package var machineDifferences: [(feature: String, values: [(machine: String?, enabled: Bool)])] {
        guard realized.count > 1 else { return [] }
        let all = realized.reduce(Set<String>()) { $0.union($1.features) }
        let common = realized.dropFirst().reduce(realized[0].features) { $0.intersection($1.features) }
        return all.subtracting(common).sorted().map { feature in
            (feature, realized.map { ($0.machine, $0.features.contains(feature)) })
        }
    }
}
