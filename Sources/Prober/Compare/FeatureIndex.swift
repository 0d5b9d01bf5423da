/// Numbers CPU feature names across hosts and QEMU versions so that feature sets become bitsets (`FeatureSet`).
///
/// Names are matched by ``FeatureNames`` normalization (lowercase, `_` and `.` read as `-`) after the target's true
/// aliases (x86: `pclmuldq` is `pclmulqdq`, `sse3` is `pni`; see ``QEMUTarget/featureAliases``), so `sse4_1` from an old QEMU and `sse4.1` from a new one
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
    /// Exact spellings already seen: one cheap lookup per name on the hot path, no normalization.
    private var spellings = SpellingTable()
    /// The display name of each feature, by id.
    package private(set) var names: [String] = []
    /// Per id, whether it is a CPU option rather than a feature.
    private var options: [Bool] = []

    /// The aliases applied: the target's (the same rule as ``FeatureNames``: none for targets other than x86).
    package let aliases: [String: String]

    /// An empty index for the features of target `arch` (`x86_64`, `s390x`, `aarch64`, ...).
    package init(arch: String?) {
        aliases = QEMUTarget(arch: arch).featureAliases
    }

    /// The number of features known.
    package var count: Int { names.count }

    /// The normalized key of a name (the target's aliases resolved).
    package func key(_ name: String) -> String {
        FeatureNames.key(aliases[name] ?? name)
    }

    /// Whether `name` is a CPU option rather than a feature (see ``cpuOptions``; `hv-*` and `x-*` too).
    package func isCPUOption(_ name: String) -> Bool {
        Self.isCPUOptionKey(key(name))
    }

    private static func isCPUOptionKey(_ key: String) -> Bool {
        cpuOptions.contains(key) || key.hasPrefix("hv-") || key.hasPrefix("x-")
    }

    /// The id of `name`, adding it when new.
    package mutating func intern(_ name: String) -> Int {
        if let id = spellings.find(name) { return id }
        let id = internNew(name)
        spellings.insert(name, id)
        return id
    }

    /// Whether feature `id` is a CPU option (see ``isCPUOption(_:)``), decided once when its first spelling came.
    package func isOption(_ id: Int) -> Bool { options[id] }

    private mutating func internNew(_ name: String) -> Int {
        let key = self.key(name)
        if let id = ids[key] {
            if Self.preferred(name, over: names[id]) { names[id] = name }
            return id
        }
        let id = names.count
        ids[key] = id
        names.append(aliases[name] ?? name)
        options.append(Self.isCPUOptionKey(key))
        return id
    }

    /// The id of `name`, or nil when no host mentioned it.
    package func id(_ name: String) -> Int? { spellings.find(name) ?? ids[key(name)] }

    /// The set of `names`, adding new ones; CPU options are left out when `featuresOnly`.
    package mutating func set<S: Sequence>(_ names: S, featuresOnly: Bool = false) -> FeatureSet where S.Element == String {
        var set = FeatureSet()
        for name in names {
            let id = intern(name)
            if !featuresOnly || !options[id] { set.insert(id) }
        }
        return set
    }

    /// The display names of a set, sorted.
    package func names(_ set: FeatureSet) -> [String] {
        set.ids.map { names[$0] }.sorted()
    }

    /// The display name of feature `id`.
    package func name(_ id: Int) -> String { names[id] }

    /// Per id, its position in the sorted display names (to sort ids by name with integer comparisons).
    package func rankByName() -> [Int] {
        var rank = [Int](repeating: 0, count: names.count)
        for (position, id) in names.indices.sorted(by: { names[$0] < names[$1] }).enumerated() { rank[id] = position }
        return rank
    }

    private static func preferred(_ candidate: String, over current: String) -> Bool {
        guard FeatureNames.x86Aliases[candidate] == nil else { return false }
        func rank(_ name: String) -> (Int, Int) { (name.filter { $0 == "_" }.count, name.contains(".") ? 0 : 1) }
        return rank(candidate) < rank(current)
    }
}

/// An open-addressing table from exact spellings to ids, hashed with FNV-1a over the UTF-8 bytes: a fleet's
/// reports repeat the same few hundred names millions of times, and this lookup is the hot path's only string work.
struct SpellingTable: Sendable {
    private var keys: [String?] = Array(repeating: nil, count: 1024)
    private var values: [Int] = Array(repeating: 0, count: 1024)
    private var count = 0

    private static func hash(_ name: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    /// The id stored for `name`.
    func find(_ name: String) -> Int? {
        let mask = keys.count - 1
        var slot = Self.hash(name) & mask
        while let key = keys[slot] {
            if key == name { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Stores `id` for `name` (not present yet).
    mutating func insert(_ name: String, _ id: Int) {
        if (count + 1) * 2 > keys.count { grow() }
        let mask = keys.count - 1
        var slot = Self.hash(name) & mask
        while keys[slot] != nil { slot = (slot + 1) & mask }
        keys[slot] = name
        values[slot] = id
        count += 1
    }

    private mutating func grow() {
        let old = zip(keys, values).compactMap { key, value in key.map { ($0, value) } }
        keys = Array(repeating: nil, count: keys.count * 2)
        values = Array(repeating: 0, count: values.count * 2)
        count = 0
        for (key, value) in old { insert(key, value) }
    }
}
