/// Numbers CPU feature names across hosts and QEMU versions so that feature sets become bitsets (``FeatureSet``).
///
/// Names are matched by ``FeatureNames`` normalization (lowercase, `_` and `.` read as `-`) after QEMU's true
/// aliases (`pclmuldq` is `pclmulqdq`, `sse3` is `pni`), so `sse4_1` from an old QEMU and `sse4.1` from a new one
/// are one feature. Each feature is shown under its preferred spelling (QEMU's static-expansion name: fewest `_`,
/// a `.` over a `-`).
public struct FeatureIndex: Sendable {
    /// Boolean CPU properties that are options of QEMU's CPU object, not CPUID features: full expansions of older
    /// QEMU (libvirt's static-full host model, QEMU before 4.1) list them among the features.
    public static let cpuOptions: Set<String> = [
        "check", "enforce", "kvm", "migratable", "realized", "pmu", "l3-cache", "legacy-cache", "host-cache-info",
        "host-phys-bits", "full-cpuid-auto-level", "tcg-cpuid", "vmware-cpuid-freq", "cpuid-0xb", "fill-mtrr-mask",
        "kvm-no-smi-migration", "expose-kvm", "lbr-fmt",
    ]

    private var ids: [String: Int] = [:]
    /// Exact spellings already seen: one hash lookup per name on the hot path, no normalization.
    private var spellings: [String: Int] = [:]
    /// The display name of each feature, by id.
    public private(set) var names: [String] = []

    /// An empty index.
    public init() {}

    /// The number of features known.
    public var count: Int { names.count }

    /// The normalized key of a name (aliases resolved).
    public static func key(_ name: String) -> String {
        FeatureNames.key(FeatureNames.x86Aliases[name] ?? name)
    }

    /// Whether `name` is a CPU option rather than a feature (see ``cpuOptions``; `hv-*` and `x-*` too).
    public static func isCPUOption(_ name: String) -> Bool {
        let key = key(name)
        return cpuOptions.contains(key) || key.hasPrefix("hv-") || key.hasPrefix("x-")
    }

    /// The id of `name`, adding it when new.
    public mutating func intern(_ name: String) -> Int {
        if let id = spellings[name] { return id }
        let id = internNew(name)
        spellings[name] = id
        return id
    }

    private mutating func internNew(_ name: String) -> Int {
        let key = Self.key(name)
        if let id = ids[key] {
            if Self.preferred(name, over: names[id]) { names[id] = name }
            return id
        }
        let id = names.count
        ids[key] = id
        names.append(FeatureNames.x86Aliases[name] ?? name)
        return id
    }

    /// The id of `name`, or nil when no host mentioned it.
    public func id(_ name: String) -> Int? { spellings[name] ?? ids[Self.key(name)] }

    /// The set of `names`, adding new ones; CPU options are left out when `featuresOnly`.
    public mutating func set<S: Sequence>(_ names: S, featuresOnly: Bool = false) -> FeatureSet where S.Element == String {
        var set = FeatureSet()
        for name in names where !featuresOnly || !Self.isCPUOption(name) { set.insert(intern(name)) }
        return set
    }

    /// The display names of a set, sorted.
    public func names(_ set: FeatureSet) -> [String] {
        set.ids.map { names[$0] }.sorted()
    }

    /// The display name of feature `id`.
    public func name(_ id: Int) -> String { names[id] }

    private static func preferred(_ candidate: String, over current: String) -> Bool {
        guard FeatureNames.x86Aliases[candidate] == nil else { return false }
        func rank(_ name: String) -> (Int, Int) { (name.filter { $0 == "_" }.count, name.contains(".") ? 0 : 1) }
        return rank(candidate) < rank(current)
    }
}
