import QMP

/// The computed result of a probe: per accelerator, the host model and, per CPU model, whether it is usable
/// and which features QEMU adds or drops. ``json`` is the stable, versioned output (`schemas/probe-report.schema.json`).
public struct ProbeReport: Sendable {
    /// The schema identifier written in every report.
    public static let schemaID = "qmp-probe/probe-report/1"
    /// The features highlighted wherever they change (the ones users trip over after an upgrade).
    public static let highlighted: Set<String> = ["x2apic", "hypervisor", "arat"]

    /// The host model of one accelerator.
    public struct HostModel: Sendable, Equatable {
        /// The model expanded (`host`, `max`).
        public var name: String
        /// The model name QEMU returned (`base`, `z13.2-base`, `max`...).
        public var model: String
        /// How it was expanded (`static`, `static-full`, `full`).
        public var method: String
        /// Every property, QEMU's names and values in its order (from the `migratable: false` pass only the
        /// values of features true there alone, which are true here, as in libvirt).
        public var props: JSONObject
        /// Per property (QEMU's names, as in ``props``), libvirt's migratable mark: true (`migratable='yes'`) for a
        /// feature on in the migratable expansion, false (`'no'`) for one on only with `migratable: false`; features
        /// off and non-boolean properties have none. Empty when the migratability is not known.
        public var marks: [String: Bool]
        /// Features on and migratable (libvirt's `migratable='yes'`), canonical names, sorted.
        public var migratable: [String]
        /// Features on only when non-migratable features are allowed (libvirt's `migratable='no'`).
        public var nonMigratable: [String]
        /// Whether the migratability of features is known (the `migratable: false` pass was made).
        public var migratabilityKnown: Bool
        /// The properties QEMU marks deprecated in the host model (`deprecated-props`, libvirt's
        /// `<deprecatedFeatures>`), in QEMU's order; nil when QEMU does not say.
        public var deprecatedProps: [String]? = nil
    }

    /// One CPU model under one accelerator.
    public struct Model: Sendable, Equatable {
        /// The model name: QEMU's, or libvirt's spelling where libvirt renames it (ppc64's `POWER9` for `power9`,
        /// ``QEMUTarget/libvirtModelName(_:)``).
        public var name: String
        /// Its QOM type.
        public var typename: String?
        /// The versioned model it resolves to.
        public var aliasOf: String?
        /// Usable here (nil when QEMU did not say).
        public var usable: Bool?
        /// QEMU's `unavailable-features`, verbatim: its order, duplicates included.
        public var blockers: [String]?
        /// Features the model turns on (static expansion, canonical, sorted); nil when not expanded.
        public var enabled: [String]?
        /// Features the guest gets that the reference does not have; nil without a reference.
        public var added: [String]?
        /// Features the reference has that the guest does not get (turned off by this accelerator); nil without a reference.
        public var removed: [String]?
        /// Features the model asks for that this host/accelerator cannot give: canonical, no duplicates, sorted.
        public var dropped: [String]?
        /// Whether QEMU marks the model deprecated.
        public var deprecated: Bool?
        /// Highlighted features (x2apic, hypervisor, arat) that were added, removed or dropped.
        public var highlights: [String] = []
    }

    /// Everything about one accelerator.
    public struct Accelerator: Sendable {
        /// `kvm`, `tcg`, ...
        public var name: String
        /// What `added`/`removed` compare against (e.g. `tcg in the same QEMU`), or nil.
        public var reference: String?
        /// Where ``reference`` came from.
        public var referenceKind: ProbeReference.Kind { ProbeReference.kind(of: reference) }
        /// The host model.
        public var hostModel: HostModel?
        /// The models, in QEMU's order.
        public var models: [Model]
        /// What could not be determined.
        public var notes: [String]
    }

    /// QEMU's version.
    public var version: QEMUVersion
    /// The target architecture.
    public var arch: String?
    /// The binary probed, when we started it.
    public var binary: String?
    /// Where the data came from (`live`, `socket PATH`, `replay FILE`).
    public var source: String
    /// Per accelerator, in probe order.
    public var accelerators: [Accelerator]
}

extension ProbeReport {
    /// Computes the report from gathered probes: each accelerator's `added`/`removed` is taken against its
    /// external reference in `against`, else against its reference accelerator of the same QEMU
    /// (`ProbeReference.accelerator(for:)`: KVM and hvf against TCG).
    public static func compute(probes: [AcceleratorProbe], source: String, binary: String? = nil,
                               against: [String: (label: String, probe: AcceleratorProbe)] = [:]) -> ProbeReport {
        let first = probes.first
        let references = ProbeReference.references(probes, against: against)
        let accelerators = probes.map { computeAccelerator($0, reference: references[$0.accelerator]) }
        return ProbeReport(version: first?.version ?? QEMUVersion(major: 0, minor: 0, micro: 0),
                           arch: first?.arch, binary: binary, source: source, accelerators: accelerators)
    }

    /// The feature names of a probe: the spellings of the target's feature expansion
    /// (``QEMUTarget/featureExpansionType``: static on x86, full elsewhere), from the host model and every model.
    static func featureNames(_ probe: AcceleratorProbe) -> (FeatureNames, Set<String>?) {
        let target = QEMUTarget(arch: probe.arch)
        var canonical = Set<String>()
        // The static expansions of one QEMU list the same properties in the same order: comparing the key list with
        // the previous one (cheap) spares hashing every name of every model again; only booleans not yet seen at a
        // position are added.
        var lastKeys: [String] = []
        var added: [Bool] = []
        func add(_ expansion: CPUModelExpansion?) {
            guard let props = expansion?.props else { return }
            if props.keys == lastKeys {
                for (position, value) in props.values.enumerated() where !added[position] && value.boolValue != nil {
                    canonical.insert(lastKeys[position])
                    added[position] = true
                }
                return
            }
            lastKeys = props.keys
            added = props.values.map { $0.boolValue != nil }
            for (position, key) in lastKeys.enumerated() where added[position] { canonical.insert(key) }
        }
        if target.featureExpansionType == "static" {
            if let host = probe.hostModel, host.method != .fullExpansion { add(host.expansion) }
            for expansion in probe.expansions.values { add(expansion.staticExpansion) }
        } else {
            add(probe.hostModel?.expansion)
            add(probe.hostModel?.full)
            for expansion in probe.expansions.values { add(expansion.fullExpansion) }
        }
        if canonical.isEmpty { return (FeatureNames(arch: probe.arch), nil) }
        return (FeatureNames(canonical: canonical, arch: probe.arch), canonical)
    }

    static func computeAccelerator(_ probe: AcceleratorProbe,
                                   reference: (label: String, probe: AcceleratorProbe)?) -> Accelerator {
        let (names, features) = featureNames(probe)
        let referenceNames = reference.map { featureNames($0.probe) }
        let referenceDefinitions = Dictionary((reference?.probe.definitions ?? []).map { ($0.name, $0) },
                                              uniquingKeysWith: { a, _ in a })
        let target = QEMUTarget(arch: probe.arch)
        let referenceTarget = QEMUTarget(arch: reference?.probe.arch)
        var reader = EnabledFeatureReader(names: names, features: features)
        var referenceReader = referenceNames.map { EnabledFeatureReader(names: $0.0, features: $0.1) }
        var models: [Model] = []
        for definition in probe.definitions ?? [] {
            var model = Model(name: target.libvirtModelName(definition.name), typename: definition.typename,
                              aliasOf: definition.aliasOf,
                              usable: definition.usable, blockers: definition.unavailableFeatures,
                              deprecated: definition.deprecated)
            let enabledList = target.featureExpansion(probe.expansions[definition.name]).map { reader.enabled($0) }
            model.enabled = enabledList
            model.dropped = definition.unavailableFeatures.map { Array(Set($0.map(names.canonical))).sorted() }
            if let reference, let enabledList, referenceDefinitions[definition.name] != nil || reference.probe.definitions == nil,
               let referenceExpansion = referenceTarget.featureExpansion(reference.probe.expansions[definition.name]) {
                let enabled = Set(enabledList)
                let mapped = Set(referenceReader!.enabled(referenceExpansion).map(names.canonical))
                model.added = enabled.subtracting(mapped).sorted()
                model.removed = mapped.subtracting(enabled).sorted()
            }
            let changed = Set((model.added ?? []) + (model.removed ?? []) + (model.dropped ?? []))
            model.highlights = highlighted.intersection(changed).sorted()
            models.append(model)
        }
        return Accelerator(name: probe.accelerator, reference: reference?.label,
                           hostModel: probe.hostModel.map { hostModel($0, names: names) }, models: models,
                           notes: probe.notes)
    }

    static func hostModel(_ host: AcceleratorProbe.HostModel, names: FeatureNames) -> HostModel {
        var props = host.expansion.props
        var marks: [String: Bool] = [:]
        var migratable = Set<String>()
        var nonMigratable = Set<String>()
        for (key, value) in host.expansion.props where value.boolValue == true { migratable.insert(names.canonical(key)) }
        if let other = host.nonMigratable {
            // As libvirt: only properties boolean in both passes are marked; one on only with `migratable: false`
            // is turned on and marked non-migratable; properties of the second pass alone are ignored.
            for (key, value) in host.expansion.props {
                guard let on = value.boolValue, let onWhenNonMigratable = other.props[key]?.boolValue else { continue }
                if on {
                    marks[key] = true
                } else if onWhenNonMigratable {
                    props[key] = .bool(true)
                    marks[key] = false
                    nonMigratable.insert(names.canonical(key))
                }
            }
        }
        return HostModel(name: host.name, model: host.expansion.model, method: host.method.rawValue, props: props,
                         marks: marks, migratable: migratable.sorted(), nonMigratable: nonMigratable.sorted(),
                         migratabilityKnown: host.nonMigratable != nil,
                         // As libvirt: from the full expansion when there is one (QEMU before 10.1 leaves them out
                         // of s390x's static expansion under TCG).
                         deprecatedProps: (host.full ?? host.expansion).deprecatedProps)
    }
}
