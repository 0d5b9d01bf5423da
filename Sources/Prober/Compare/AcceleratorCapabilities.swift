import QMP

/// One host's answers for one accelerator, with every feature list turned into a ``FeatureSet`` of a shared
/// ``FeatureIndex``: what the compatibility checks read.
package struct AcceleratorCapabilities: Sendable {
    /// One CPU model as this host and QEMU see it.
    package struct Model: Sendable {
        /// The model name.
        package var name: String
        /// The versioned model it resolves to.
        package var aliasOf: String?
        /// Usable here (nil when QEMU did not say).
        package var usable: Bool?
        /// QEMU's `unavailable-features`, verbatim (nil when QEMU did not say).
        package var blockers: [String]?
        /// The features the model asks for that this host cannot give (canonical).
        package var dropped: FeatureSet
        /// The features the model turns on (static expansion), nil when not expanded.
        package var enabled: FeatureSet?
        /// The features this QEMU added against its reference (e.g. KVM against TCG), nil without a reference.
        package var added: FeatureSet?
        /// Whether QEMU marks the model deprecated.
        package var deprecated: Bool?
    }

    /// The accelerator (`kvm`, `tcg`).
    package var accelerator: String
    /// What `added` was taken against, when anything.
    package var reference: String?
    /// Every feature this QEMU names (the host model's boolean properties, CPU options left out); nil when unknown.
    package var known: FeatureSet?
    /// The host model's features that are on and migratable; nil when there is no host model.
    package var hostModel: FeatureSet?
    /// The host model's features that are on only when migratability is not required (`invtsc`).
    package var nonMigratable: FeatureSet
    /// The models, in QEMU's order.
    package var models: [Model]
    private var byName: [String: Int]

    /// Indexes one accelerator section of a report, adding its feature names to `index`.
    package init(_ section: ProbeReport.Accelerator, index: inout FeatureIndex) {
        accelerator = section.name
        reference = section.reference
        if let host = section.hostModel {
            let booleans = host.props.compactMap { key, value in value.boolValue == nil ? nil : key }
            known = booleans.isEmpty ? nil : index.set(booleans, featuresOnly: true)
            hostModel = index.set(host.migratable, featuresOnly: true)
            nonMigratable = index.set(host.nonMigratable, featuresOnly: true)
        } else {
            nonMigratable = FeatureSet()
        }
        var models: [Model] = []
        models.reserveCapacity(section.models.count)
        for model in section.models {
            models.append(Model(name: model.name, aliasOf: model.aliasOf, usable: model.usable, blockers: model.blockers,
                                dropped: index.set(model.dropped ?? model.blockers ?? []),
                                enabled: model.enabled.map { index.set($0, featuresOnly: true) },
                                added: model.added.map { index.set($0) }, deprecated: model.deprecated))
        }
        if known != nil {
            // Features the models mention are features of this QEMU too (older QEMU spells some differently).
            for model in models { if let enabled = model.enabled { known!.formUnion(enabled) } }
        }
        self.models = models
        byName = Dictionary(models.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The model named `name`, when this QEMU has it.
    package func model(_ name: String) -> Model? { byName[name].map { models[$0] } }

    /// The features this host can give a guest beyond a model's own list: the host model, migratable or not.
    package var hostCanGive: FeatureSet? { hostModel.map { $0.union(nonMigratable) } }
}
