/// The CPU a guest gets on the source host: the model's enabled features under the source's accelerator, with
/// the spec's switches applied, minus what the source cannot give (QEMU filters those at start). This updated CPU
/// is what a migration stream or a saved image carries, so the destination must give exactly it.
package struct GuestCPU: Sendable {
    /// The model (and switches) asked for.
    package var spec: CPUSpec
    /// Every feature the guest has; nil when the source did not expand the model (libvirt's recorded probes).
    package var features: FeatureSet?
    /// Features known to be on even when ``features`` is unknown (switched on by the spec and given by the source).
    package var knownOn: FeatureSet
    /// Features known to be off: switched off by the spec, or asked for and filtered by the source.
    package var knownOff: FeatureSet
    /// What the source filtered: asked for, but the source host cannot give it.
    package var filtered: FeatureSet
    /// Features of the guest that the source's QEMU added on its own against its reference (e.g. KVM's `x2apic`);
    /// nil when the source has no reference.
    package var added: FeatureSet?
    /// Features of the guest that the source host marks as not migratable (`invtsc`).
    package var nonMigratable: FeatureSet
    /// The versioned model the name resolved to on the source (`alias-of`), nil for QEMU before 4.1 (whose
    /// unversioned models are the legacy definitions, `-v1`) and for models that are not aliases.
    package var resolvedName: String?

    /// Works out the guest CPU of `spec` on `source`; nil when the source has no such model. `definition` names the
    /// source model to take the features from when it is not the named one (`NAME-v1` when the destination's QEMU
    /// has no versions: the guest then runs an old machine type, which resolves names to the legacy definitions).
    package init?(spec: CPUSpec, on source: AcceleratorCapabilities, definition: String? = nil, index: inout FeatureIndex) {
        guard source.model(spec.model) != nil, let model = source.model(definition ?? spec.model) else { return nil }
        self.spec = spec
        resolvedName = definition ?? model.aliasOf
        var on = FeatureSet(), off = FeatureSet(), optional = FeatureSet()
        for (name, request) in spec.requests {
            let id = index.intern(name)
            switch request {
            case .on: on.insert(id)
            case .off: off.insert(id)
            case .optional: optional.insert(id)
            }
        }
        let hostGives = source.hostCanGive
        // A switched-on feature outside the model's own list comes from the host model (when there is one).
        func sourceGives(_ set: FeatureSet) -> FeatureSet {
            let outside = model.enabled.map { set.subtracting($0) } ?? set
            var given = set.subtracting(model.dropped)
            if let hostGives { given.subtract(outside.subtracting(hostGives)) }
            if let known = source.known { given.formIntersection(known.union(model.enabled ?? FeatureSet())) }
            return given
        }
        let optionalGiven = sourceGives(optional)
        let onGiven = sourceGives(on)
        filtered = on.subtracting(onGiven)
        if let enabled = model.enabled {
            var asked = enabled.union(on).union(optionalGiven)
            asked.subtract(off)
            filtered.formUnion(enabled.intersection(model.dropped).subtracting(off))
            asked.subtract(filtered)
            features = asked
        } else {
            filtered.formUnion(model.dropped.subtracting(off))
            features = nil
        }
        knownOn = onGiven.union(optionalGiven).subtracting(off)
        knownOff = off.union(filtered).union(optional.subtracting(optionalGiven))
        let guestFeatures = features
        added = model.added.map { added in guestFeatures.map { added.intersection($0) } ?? added }
        nonMigratable = (guestFeatures ?? knownOn).intersection(source.nonMigratable)
    }
}
