/// Whether a guest started on one host could run on another: the answer for live migration and for restoring a
/// saved image alike, since both need the same guest CPU on the destination.
package enum CompatibilityCheck {
    /// Checks `guest` (from the source) against `destination`. Each guest feature must be something the destination
    /// can give: known to its QEMU, not in its `unavailable-features` for the model, and, when it is not part of the
    /// destination's own definition of the model, in its host model. When the source did not expand the model,
    /// the check is by model: the destination's `unavailable-features` that the source did not filter too.
    package static func check(_ guest: GuestCPU, on destination: AcceleratorCapabilities,
                             index: FeatureIndex) -> ModelVerdict {
        var verdict = ModelVerdict(model: guest.spec.model, spec: guest.spec.features.isEmpty ? nil : guest.spec.description)
        verdict.guest = guest.features.map(index.names)
        verdict.filtered = index.names(guest.filtered)
        verdict.added = guest.added.map(index.names)
        verdict.basis = guest.features == nil ? .model : .features
        guard let named = destination.model(guest.spec.model) else {
            verdict.modelMissing = true
            return verdict
        }
        verdict.destinationUsable = named.usable
        // Both sides realize the same versioned model under the guest's machine type; the probes' `alias-of` may
        // differ (it follows the probe's machine), so check the definition the source resolved the name to. A
        // source without versions (QEMU before 4.1) runs the legacy definitions, which are the `-v1` models.
        let resolved = guest.resolvedName ?? (named.aliasOf != nil ? guest.spec.model + "-v1" : nil)
        let model = resolved.flatMap { destination.model($0) } ?? named
        if model.name != named.name, model.name != named.aliasOf { verdict.destinationModel = model.name }
        if let resolved, destination.model(resolved) == nil, resolved != named.aliasOf {
            verdict.sourceModel = resolved
        }
        var unavailable = FeatureSet(), notInHost = FeatureSet(), unknown = FeatureSet()
        func checkOutside(_ features: FeatureSet) {
            // Features the destination's model does not ask for itself: its QEMU must know them, its host give them.
            var rest = features
            if let known = destination.known {
                unknown.formUnion(rest.subtracting(known))
                rest.formIntersection(known)
            }
            unavailable.formUnion(rest.intersection(model.dropped))
            rest.subtract(model.dropped)
            if let host = destination.hostCanGive { notInHost.formUnion(rest.subtracting(host)) }
        }
        if let features = guest.features {
            if let own = model.enabled {
                unavailable.formUnion(features.intersection(own).intersection(model.dropped))
                checkOutside(features.subtracting(own))
            } else {
                checkOutside(features)
            }
        } else {
            unavailable.formUnion(model.dropped.subtracting(guest.knownOff).subtracting(guest.knownOn))
            checkOutside(guest.knownOn)
        }
        let added = guest.added ?? FeatureSet()
        func append(_ set: FeatureSet, _ reason: ModelVerdict.Reason) {
            for id in set.ids.sorted(by: { index.name($0) < index.name($1) }) {
                verdict.blockers.append(.init(feature: index.name(id), reason: reason, addedBySource: added.contains(id)))
            }
        }
        append(unknown, .unknownFeature)
        append(unavailable, .unavailable)
        append(notInHost, .notInHostModel)
        append(guest.nonMigratable, .notMigratable)
        return verdict
    }
}
