import QMP

/// Chooses the fleet's base model and its switches (``BaselineReport/ModelRule``), and checks a CPU on every host.
///
/// Works over the distinct results of one accelerator (`sections[i]` stands for the hosts `members[i]`), with
/// `shared` the features every host model has (on and migratable) and `known` the features every QEMU build names.
struct BaselineModelChoice {
    let sections: [ProbeReport.Accelerator]
    let builds: [String]
    let members: [[Int]]
    let shared: FeatureSet
    let known: FeatureSet
    /// Per representative result (one per QEMU build): model name to position in its `models`. Other results are
    /// searched when checked (building a table for each of thousands of results would cost more than the search).
    private let positions: [Int: [String: Int]]
    /// One distinct result per QEMU build (a model's features depend on the build and the accelerator only).
    private let representatives: [Int]
    /// Per distinct result, once read: what its host model gives (migratable or not) and the features its QEMU names.
    private var hostSets: [(gives: FeatureSet, known: FeatureSet)?]
    /// Per QEMU build, once read: the features it names (its host model's boolean properties).
    private var buildKnown: [String: FeatureSet] = [:]

    init(sections: [ProbeReport.Accelerator], builds: [String], members: [[Int]], shared: FeatureSet, known: FeatureSet) {
        self.sections = sections
        self.builds = builds
        self.members = members
        self.shared = shared
        self.known = known
        var seen = Set<String>()
        representatives = builds.indices.filter { seen.insert(builds[$0]).inserted }
        positions = Dictionary(uniqueKeysWithValues: representatives.map { host in
            (host, Dictionary(sections[host].models.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first }))
        })
        hostSets = Array(repeating: nil, count: sections.count)
    }

    /// What distinct result `host`'s host model gives and which features its QEMU names (its boolean properties, the
    /// same for every host of one QEMU build); nil without a host model. Read once per result, and once per build.
    private mutating func hostSet(_ host: Int, index: inout FeatureIndex) -> (gives: FeatureSet, known: FeatureSet)? {
        if let known = hostSets[host] { return known }
        guard let hostModel = sections[host].hostModel else { return nil }
        let known = buildKnown[builds[host]] ?? {
            var booleans: [String] = []
            for (key, value) in hostModel.props where value.boolValue != nil { booleans.append(key) }
            let set = index.set(booleans, featuresOnly: true)
            buildKnown[builds[host]] = set
            return set
        }()
        let sets = (gives: index.set(hostModel.migratable, featuresOnly: true).union(index.set(hostModel.nonMigratable, featuresOnly: true)),
                    known: known)
        hostSets[host] = sets
        return sets
    }

    /// libvirt's cost of a candidate (`virCPUx86CompareCandidateFeatureList`): one per added feature, and 2, 3, 4, ...
    /// for the first, second, third disabled feature.
    static func libvirtCost(added: Int, disabled: Int) -> Int {
        added + disabled * 2 + disabled * (disabled - 1) / 2
    }

    /// The KVM paravirtual features of `set`.
    static func paravirtual(_ set: FeatureSet, index: FeatureIndex) -> FeatureSet {
        FeatureSet(set.ids.filter { LibvirtFeatureNames.isKVMParavirtual(index.name($0)) })
    }

    /// Where `model` is in distinct result `host`'s models, nil when that QEMU has no such model.
    func position(of model: String, on host: Int) -> Int? {
        if let table = positions[host] { return table[model] }
        return sections[host].models.firstIndex { $0.name == model }
    }

    /// The model's enabled features on distinct result `host`, nil when that QEMU has no such model or did not
    /// expand it.
    func enabled(_ model: String, on host: Int) -> [String]? {
        position(of: model, on: host).flatMap { sections[host].models[$0].enabled }
    }

    /// The features the model's definition asks for on distinct result `host`, beyond what this accelerator turned
    /// off on its own: its `removed` against the reference (under KVM, TCG's `svm`, `npt`, `nrip-save`, ... which
    /// KVM turns off by default). libvirt judges a CPU by its own definition of the model, which has them: they must
    /// be switched off for libvirt to find the CPU runnable where the host model lacks them.
    func removed(_ model: String, on host: Int) -> [String] {
        position(of: model, on: host).flatMap { sections[host].models[$0].removed } ?? []
    }

    /// The switches that make `model` realize exactly the shared CPU features on every host: on for a shared
    /// feature the model does not turn on everywhere, off for a feature its definition asks for somewhere (its
    /// enabled and ``removed(_:on:)`` features) that not every host model has (and every QEMU knows). KVM
    /// paravirtual features are left out of both. Nil when no build expanded it.
    func switches(for model: String, index: inout FeatureIndex, builds scope: [Int]? = nil)
        -> (plus: FeatureSet, minus: FeatureSet, expanded: Int)? {
        var common: FeatureSet?
        var all = FeatureSet()
        var expanded = 0
        for host in scope ?? representatives {
            guard let list = enabled(model, on: host) else { continue }
            let set = index.set(list, featuresOnly: true)
            common = common.map { $0.intersection(set) } ?? set
            all.formUnion(set)
            all.formUnion(index.set(removed(model, on: host), featuresOnly: true))
            expanded += 1
        }
        guard let common else { return nil }
        let pv = Self.paravirtual(shared.union(all), index: index)
        let plus = shared.subtracting(common).subtracting(pv)
        let minus = all.subtracting(shared).intersection(known).subtracting(pv)
        return (plus, minus, expanded)
    }

    /// Where `model` with `on` and `off` does not run: per distinct result, the model is missing, or the guest would
    /// have a feature the host cannot give (one the model asks for that is in QEMU's `unavailable-features`, or one
    /// switched on beyond the model's own that the host model lacks), or a switched-off feature that QEMU does not
    /// know. Hosts with the same reason are grouped; empty when it runs everywhere.
    mutating func blocks(model: String, on: FeatureSet, off: FeatureSet, index: inout FeatureIndex) -> [BaselineReport.RunBlock] {
        struct Key: Hashable { var missing: Bool; var cannot: FeatureSet; var unknown: FeatureSet }
        var groups: [Key: [Int]] = [:]
        var order: [Key] = []
        for host in sections.indices {
            let key: Key
            if let position = position(of: model, on: host) {
                let entry = sections[host].models[position]
                let dropped = index.set(entry.dropped ?? entry.blockers ?? [])
                let own = entry.enabled.map { index.set($0, featuresOnly: true) }
                var cannot = (own ?? FeatureSet()).union(on).subtracting(off).intersection(dropped)
                var unknown = FeatureSet()
                if let sets = hostSet(host, index: &index) {
                    cannot.formUnion(on.subtracting(own ?? FeatureSet()).subtracting(sets.gives))
                    unknown = off.subtracting(sets.known.union(own ?? FeatureSet()))
                }
                key = Key(missing: false, cannot: cannot.subtracting(unknown), unknown: unknown)
            } else {
                key = Key(missing: true, cannot: FeatureSet(), unknown: FeatureSet())
            }
            if key.missing || !key.cannot.isEmpty || !key.unknown.isEmpty {
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(contentsOf: members[host])
            }
        }
        return order.map { key in
            BaselineReport.RunBlock(hosts: groups[key]!.sorted(), missingModel: key.missing,
                                    cannotGive: index.names(key.cannot), unknown: index.names(key.unknown))
        }
    }

    /// The CPU of `model` with `plus` and `minus`, checked on every host.
    mutating func cpu(_ model: String, plus: FeatureSet, minus: FeatureSet, rule: BaselineReport.ModelRule?, known modelKnown: Bool,
             index: inout FeatureIndex) -> BaselineReport.BaselineCPU {
        var cpu = BaselineReport.BaselineCPU(model: model, plus: index.names(plus), minus: index.names(minus),
                                             modelFeaturesKnown: modelKnown)
        cpu.rule = rule
        cpu.modelVendor = CPUVendor.vendor(ofModel: model)
        var modelFeatures = FeatureSet()
        for host in representatives { if let list = enabled(model, on: host) { modelFeatures.formUnion(index.set(list, featuresOnly: true)) } }
        cpu.paravirtual = index.names(Self.paravirtual(shared, index: index).subtracting(modelFeatures))
        cpu.blockedOn = blocks(model: model, on: plus, off: minus, index: &index)
        return cpu
    }

    /// libvirt's rule: among the models every host has and every build expanded, those of `vendor` (when no model of
    /// it runs everywhere: any vendor, said in `notes`), unversioned names first (libvirt's own), those whose
    /// signature is the hosts' (``CPUModelSignatures``, when every host model reports the same), the lowest
    /// ``libvirtCost(added:disabled:)``; ties to fewer disabled features, then to the model with more features of
    /// its own, then by name. The first candidate in that order that runs on every host is chosen. Nil when no model
    /// is expanded everywhere.
    mutating func libvirtChoice(rows: [BaselineReport.ModelRow], deprecated: [Bool], vendor: String?, index: inout FeatureIndex,
                       notes: inout [String]) -> BaselineReport.BaselineCPU? {
        struct Candidate { var name: String; var plus: FeatureSet; var minus: FeatureSet; var own: Int; var vendorFits: Bool
            var versioned: Bool; var deprecated: Bool; var signatureMatches: Bool
            var cost: Int { BaselineModelChoice.libvirtCost(added: plus.count, disabled: minus.count) } }
        // The hosts' signature, when every host model reports the same one.
        let signatures = Set(sections.map { CPUModelSignatures.signature(of: $0.hostModel) })
        let signature = signatures.count == 1 ? signatures.first! : nil
        var candidates: [Candidate] = []
        for (position, row) in rows.enumerated() where !FleetBaseline.notBaselines.contains(row.name) {
            guard !row.blockedBy.contains(where: \.missing),
                  representatives.allSatisfy({ enabled(row.name, on: $0) != nil }),
                  let (plus, minus, _) = switches(for: row.name, index: &index) else { continue }
            let own = representatives.compactMap { enabled(row.name, on: $0)?.count }.min() ?? 0
            let modelVendor = CPUVendor.vendor(ofModel: row.name)
            candidates.append(Candidate(name: row.name, plus: plus, minus: minus, own: own,
                                        vendorFits: vendor == nil || modelVendor == nil || modelVendor == vendor,
                                        versioned: CPUVendor.unversioned(row.name) != row.name, deprecated: deprecated[position],
                                        signatureMatches: signature.map { CPUModelSignatures.signatures(of: row.name, aliasOf: row.aliasOf)?.contains($0) ?? false } ?? false))
        }
        guard !candidates.isEmpty else { return nil }
        candidates.sort { a, b in
            let left = (a.vendorFits ? 0 : 1, (a.versioned ? 2 : 0) + (a.deprecated ? 1 : 0), a.signatureMatches ? 0 : 1, a.cost, a.minus.count, -a.own)
            let right = (b.vendorFits ? 0 : 1, (b.versioned ? 2 : 0) + (b.deprecated ? 1 : 0), b.signatureMatches ? 0 : 1, b.cost, b.minus.count, -b.own)
            return left != right ? left < right : a.name < b.name
        }
        var first: BaselineReport.BaselineCPU?
        for candidate in candidates {
            var cpu = cpu(candidate.name, plus: candidate.plus, minus: candidate.minus, rule: .libvirt, known: true, index: &index)
            cpu.cost = candidate.cost
            if first == nil { first = cpu }
            guard cpu.runsEverywhere else { continue }
            if !candidate.vendorFits, let vendor {
                notes.append("no model of the hosts' vendor (\(vendor)) runs on every host: \(candidate.name) is of \(cpu.modelVendor ?? "no vendor")")
            }
            return cpu
        }
        notes.append("no model runs on every host with its switches: the closest one is shown with the hosts that block it")
        return first
    }

    /// The first rule of this tool: the model usable as it is on every host (not `host`/`max`/`base`, unversioned
    /// names first, not deprecated when another will do, of `vendor` first when given) with the most shared features
    /// in every build; ties to fewer features outside the shared set, then to QEMU's order.
    mutating func usableAsIsChoice(rows: [BaselineReport.ModelRow], deprecated: [Bool], vendor: String?, rule: BaselineReport.ModelRule,
                          index: inout FeatureIndex, notes: inout [String]) -> BaselineReport.BaselineCPU? {
        let everywhere = rows.enumerated().filter { $0.element.usableEverywhere && !FleetBaseline.notBaselines.contains($0.element.name) }
        guard !everywhere.isEmpty else {
            notes.append("no CPU model is usable on every host: no baseline")
            return nil
        }
        // Vendor first, then unversioned, then not deprecated: one number per class, lower is better.
        func rank(_ entry: (offset: Int, element: BaselineReport.ModelRow)) -> Int {
            let modelVendor = CPUVendor.vendor(ofModel: entry.element.name)
            return (vendor == nil || modelVendor == nil || modelVendor == vendor ? 0 : 4)
                + (CPUVendor.unversioned(entry.element.name) != entry.element.name ? 2 : 0) + (deprecated[entry.offset] ? 1 : 0)
        }
        let bestClass = everywhere.map(rank).min()!
        let candidates = everywhere.filter { rank($0) == bestClass }.map(\.element.name)
        var best: (name: String, score: Int, outside: Int)?
        for candidate in candidates {
            var common: FeatureSet?
            var all = FeatureSet()
            for host in representatives {
                guard let list = enabled(candidate, on: host) else { continue }
                let set = index.set(list, featuresOnly: true)
                common = common.map { $0.intersection(set) } ?? set
                all.formUnion(set)
            }
            guard let common else { continue }
            let score = common.intersectionCount(shared)
            let outside = all.subtracting(shared).count
            if best == nil || score > best!.score || (score == best!.score && outside < best!.outside) {
                best = (candidate, score, outside)
            }
        }
        guard let chosen = best?.name else {
            notes.append("the models' features are unknown (no per-model expansions): the baseline switches on every shared feature")
            let plus = shared.subtracting(Self.paravirtual(shared, index: index))
            return cpu(candidates[0], plus: plus, minus: FeatureSet(), rule: rule, known: false, index: &index)
        }
        // Exact switches over every distinct result, not only one per build.
        let (plus, minus, expanded) = switches(for: chosen, index: &index, builds: Array(sections.indices))!
        if expanded < sections.count {
            let unexpanded = sections.indices.filter { enabled(chosen, on: $0) == nil }.reduce(0) { $0 + members[$1].count }
            let total = members.reduce(0) { $0 + $1.count }
            notes.append("\(chosen)'s features are taken from the \(total - unexpanded) host(s) that expanded it; \(unexpanded) did not and are taken to define it the same way")
        }
        return cpu(chosen, plus: plus, minus: minus, rule: rule, known: true, index: &index)
    }
}
