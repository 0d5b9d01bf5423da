import QMP

/// Why a feature of the guest differs from what was asked for.
public enum FeatureCause: String, Sendable, Codable, CaseIterable {
    /// The user's own request (an explicit `+f`/`-f`).
    case userRequest = "user-request"
    /// The accelerator's own defaults (`AcceleratorDefaults`).
    case acceleratorDefault = "accelerator-default"
    /// A machine-type compatibility property (`MachineCompat`).
    case machineCompat = "machine-type-compat"
    /// The host (or accelerator) cannot provide it: QEMU filters it out.
    case hostFiltering = "host-filtering"
    /// QEMU derives it from the guest's topology (`TopologyDerivedFeatures`).
    case topology = "topology"
    /// QEMU changed it for a reason none of the above explains (a feature dependency, a model quirk).
    case unexplained = "unexplained"
}

/// One feature that differs between the original and the updated CPU.
public struct FeatureChange: Sendable, Equatable {
    /// The feature (QEMU's canonical name).
    public var feature: String
    /// The value the guest gets.
    package var enabled: Bool
    /// Why.
    public var cause: FeatureCause
    /// More about the cause (the table entry, the machine type).
    public var detail: String?

    /// A change from its parts.
    package init(feature: String, enabled: Bool, cause: FeatureCause, detail: String? = nil) {
        self.feature = feature
        self.enabled = enabled
        self.cause = cause
        self.detail = detail
    }
}

/// The guest CPU before start: what was asked for and what QEMU will give, from expansions alone.
package struct GuestCPUPrediction: Sendable {
    /// The CPU as asked for.
    package var original: CPUSpec
    /// Features the original definition turns on: the model's own (estimated without accelerator defaults) plus
    /// the user's requests, canonical names.
    package var requested: Set<String>
    /// Features the guest will have: the expansion under the accelerator, minus what the host cannot give.
    package var predicted: Set<String>
    /// Features QEMU adds (in `predicted`, not in `requested`), with causes.
    package var added: [FeatureChange]
    /// Features asked for that the guest will not have, with causes.
    package var dropped: [FeatureChange]
    /// QEMU's `unavailable-features` for the model, verbatim.
    package var blockers: [String]
    /// Every feature name of this QEMU (the static expansion's), for realized-CPU reading.
    package var featureNames: Set<String>
    /// Features requested as optional (libvirt's `policy='optional'`): never reported as dropped.
    package var optional: Set<String> = []
    /// Assumptions and limits, in plain words.
    package var notes: [String]
}

/// Computes a ``GuestCPUPrediction`` from expansions (pure; tested without QEMU).
package enum GuestCPUPredictor {
    /// The inputs, all from QEMU's answers.
    package struct Inputs: Sendable {
        /// The spec asked for.
        package var spec: CPUSpec
        /// The accelerator and QEMU version (for the defaults table) and arch.
        package var accelerator: String
        /// QEMU's version.
        package var version: QEMUVersion
        /// The target arch.
        package var arch: String?
        /// Static expansion of the plain model under the accelerator.
        package var plain: CPUModelExpansion
        /// Static expansion of the model with the user's features under the accelerator.
        package var withRequests: CPUModelExpansion
        /// Static expansion of the plain model under the other accelerator (to tell the model's own features
        /// from this accelerator's defaults), when available.
        package var reference: (accelerator: String, expansion: CPUModelExpansion)?
        /// Features the host model has under this accelerator (`host`/`max` static expansion), canonical.
        package var hostFeatures: Set<String>?
        /// `unavailable-features` of the model under this accelerator.
        package var blockers: [String]
        /// Features the user asked for as optional (never reported dropped).
        package var optional: Set<String> = []

        /// Inputs from their parts.
        package init(spec: CPUSpec, accelerator: String, version: QEMUVersion, arch: String?, plain: CPUModelExpansion,
                    withRequests: CPUModelExpansion, reference: (accelerator: String, expansion: CPUModelExpansion)?,
                    hostFeatures: Set<String>?, blockers: [String], optional: Set<String> = []) {
            self.spec = spec
            self.accelerator = accelerator
            self.version = version
            self.arch = arch
            self.plain = plain
            self.withRequests = withRequests
            self.reference = reference
            self.hostFeatures = hostFeatures
            self.blockers = blockers
            self.optional = optional
        }
    }

    /// Predicts the guest CPU.
    package static func predict(_ inputs: Inputs) -> GuestCPUPrediction {
        let featureSet = Set(inputs.plain.booleans.map(\.0))
        let names = FeatureNames(canonical: featureSet, arch: inputs.arch)
        var notes: [String] = []
        let isHostModel = ["host", "max"].contains(inputs.spec.model)
        let userRequests = Dictionary(inputs.spec.requested.map { (names.canonical($0.key), $0.value) },
                                      uniquingKeysWith: { _, last in last })

        // The model's own definition: this accelerator's expansion, with the accelerator's defaults taken from
        // the other accelerator's expansion (or, without one, assumed not asked for by the model).
        var definition = inputs.plain.enabled(names: names, features: featureSet)
        let defaults = isHostModel ? [] : AcceleratorDefaults.entries(accelerator: inputs.accelerator, version: inputs.version,
                                                                      arch: inputs.arch)
        if !defaults.isEmpty {
            let reference = inputs.reference.map { $0.expansion.enabled(names: names, features: featureSet) }
            for entry in defaults where featureSet.contains(entry.feature) {
                let ownValue = reference.map { $0.contains(entry.feature) } ?? false
                if ownValue { definition.insert(entry.feature) } else { definition.remove(entry.feature) }
            }
            // SVM sub-features switch off with svm under KVM: the model's own value comes from the reference.
            if let reference, defaults.contains(where: { $0.feature == "svm" && !$0.enabled }) {
                for feature in AcceleratorDefaults.svmDependents where featureSet.contains(feature) && reference.contains(feature) {
                    definition.insert(feature)
                }
            }
            if inputs.reference == nil {
                notes.append("no second accelerator to compare with: the model is assumed not to ask for the \(inputs.accelerator) defaults (\(defaults.map(\.feature).joined(separator: ", ")))")
            }
        }
        var requested = definition
        for (feature, enabled) in userRequests {
            if enabled { requested.insert(feature) } else { requested.remove(feature) }
        }

        // What QEMU gives: the expansion with the user's requests, minus what the host cannot give.
        let expanded = inputs.withRequests.enabled(names: names, features: featureSet)
        var unavailable = Set(inputs.blockers.map(names.canonical))
        if let host = inputs.hostFeatures {
            for (feature, enabled) in userRequests where enabled && !host.contains(feature) { unavailable.insert(feature) }
        }
        for (feature, enabled) in userRequests where !enabled { unavailable.remove(feature) }
        let predicted = expanded.subtracting(unavailable)

        var added: [FeatureChange] = []
        var dropped: [FeatureChange] = []
        for feature in predicted.subtracting(requested).sorted() {
            added.append(attribute(feature, enabled: true, inputs: inputs, unavailable: unavailable, userRequests: userRequests))
        }
        for feature in requested.subtracting(predicted).sorted() where !inputs.optional.contains(names.canonical(feature)) {
            dropped.append(attribute(feature, enabled: false, inputs: inputs, unavailable: unavailable, userRequests: userRequests))
        }
        return GuestCPUPrediction(original: inputs.spec, requested: requested, predicted: predicted, added: added,
                                  dropped: dropped, blockers: inputs.blockers, featureNames: featureSet,
                                  optional: Set(inputs.optional.map(names.canonical)), notes: notes)
    }

    static func attribute(_ feature: String, enabled: Bool, inputs: Inputs, unavailable: Set<String>,
                          userRequests: [String: Bool]) -> FeatureChange {
        if !enabled, unavailable.contains(feature) {
            let how = userRequests[feature] == true ? "requested, but this host/accelerator cannot provide it" : "in QEMU's unavailable-features"
            return FeatureChange(feature: feature, enabled: false, cause: .hostFiltering, detail: how)
        }
        if let requested = userRequests[feature], requested == enabled {
            return FeatureChange(feature: feature, enabled: enabled, cause: .userRequest)
        }
        if AcceleratorDefaults.explains(feature: feature, enabled: enabled, accelerator: inputs.accelerator,
                                        version: inputs.version, arch: inputs.arch) {
            let via = !enabled && AcceleratorDefaults.svmDependents.contains(feature) && feature != "svm" ? " (with svm=off)" : ""
            return FeatureChange(feature: feature, enabled: enabled, cause: .acceleratorDefault,
                                 detail: "\(inputs.accelerator) sets \(feature)=\(enabled ? "on" : "off")\(via)")
        }
        return FeatureChange(feature: feature, enabled: enabled, cause: .unexplained)
    }
}
