import QMP

/// Reads the enabled features of many expansions of one QEMU in one pass each.
///
/// The expansions of one QEMU list the same properties in the same order (a CPU class's properties), so each
/// position's canonical name, whether it is a feature, and the order of the names are worked out once per distinct
/// key list; an expansion then costs one pass over its values, with no hashing and no sorting. The result is
/// ``CPUModelExpansion/enabled(names:features:)``, sorted.
struct EnabledFeatureReader {
    /// The name table the features are canonicalized with.
    let names: FeatureNames
    /// The canonical names that are features (nil: every boolean property).
    let features: Set<String>?
    private var keys: [String] = []
    /// Per position: the canonical name when the property is a feature.
    private var canonical: [String?] = []
    /// The feature positions, in the order of their canonical names.
    private var order: [Int] = []

    /// A reader canonicalizing with `names`, keeping the features in `features` (nil: all booleans).
    init(names: FeatureNames, features: Set<String>?) {
        self.names = names
        self.features = features
    }

    /// The canonical names of the features `expansion` turns on, sorted, each once.
    mutating func enabled(_ expansion: CPUModelExpansion) -> [String] {
        let props = expansion.props
        if props.keys != keys { learn(props.keys) }
        let values = props.values
        var result: [String] = []
        result.reserveCapacity(order.count)
        for position in order where values[position].boolValue == true {
            let name = canonical[position]!
            // Spellings sharing a canonical name are next to each other in `order`.
            if result.last != name { result.append(name) }
        }
        return result
    }

    private mutating func learn(_ keys: [String]) {
        self.keys = keys
        canonical = keys.map { key in
            let name = names.canonical(key)
            return features?.contains(name) == false ? nil : name
        }
        order = canonical.indices.filter { canonical[$0] != nil }.sorted { canonical[$0]! < canonical[$1]! }
    }
}
