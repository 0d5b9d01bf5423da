import QMP

/// Computes a ``BaselineReport`` over many hosts. Feature lists become `FeatureSet` bitsets over one
/// ``FeatureIndex`` as each host is read (one hash lookup per name); everything after that (grouping the hosts
/// that block a model, intersecting host models, scoring base models) works on bitsets. Cost: one pass over every
/// host's models and features, O(hosts × (models + features)); the base model's score is taken once per distinct
/// QEMU build (a model's features depend on the QEMU and the accelerator, not on the host), and its exact switches
/// once per host.
public enum FleetBaseline {
    /// Models that are never a baseline: they follow each host (`host`, `max`) or are empty (`base`).
    public static let notBaselines: Set<String> = ["host", "max", "base"]

    private struct GroupKey: Hashable {
        var blockers: FeatureSet
        var unknown: Bool
    }

    /// Computes the baseline of `hosts` for `accelerators` (default: every accelerator all hosts have), about every
    /// model or only `models`; the base model by `rule`; with `cpu`, that CPU (an operator's choice) is checked on
    /// every host as well.
    /// - Throws: ``ProberError/invalidInput(_:)`` for no hosts, hosts of different architectures, an accelerator
    ///   missing on a host or on all, or a host without a host model for an accelerator (nothing is known of what it
    ///   can give).
    public static func compute(hosts: [HostResult], accelerators requested: [String]? = nil,
                               models asked: [String]? = nil, rule: BaselineReport.ModelRule = .libvirt,
                               cpu: CPUSpec? = nil) throws -> BaselineReport {
        guard let first = hosts.first else { throw ProberError.invalidInput("no host results given (an empty fleet)") }
        var archs: [String: [String]] = [:]
        for host in hosts { archs[host.report.arch ?? "unknown", default: []].append(host.label) }
        if archs.count > 1 {
            let list = archs.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.prefix(3).joined(separator: ", "))\($0.value.count > 3 ? ", ..." : ""))" }
            throw ProberError.invalidInput("the hosts are of different architectures: \(list.joined(separator: ", ")); a baseline is for one architecture")
        }
        let names: [String]
        if let requested {
            for name in requested {
                if let host = hosts.first(where: { $0.accelerator(name) == nil }) {
                    throw ProberError.invalidInput("\(host.label) has no \(name) result (it has: \(host.acceleratorNames.joined(separator: ", ")))")
                }
            }
            names = requested
        } else {
            names = first.acceleratorNames.filter { name in hosts.allSatisfy { $0.accelerator(name) != nil } }
            guard !names.isEmpty else {
                throw ProberError.invalidInput("no accelerator is in every host's result (give matching results, or --accel)")
            }
        }
        for name in names {
            if let host = hosts.first(where: { $0.accelerator(name)?.hostModel == nil }) {
                throw ProberError.invalidInput("\(host.label) has no host model (\(name)): what its host can give is unknown, so no CPU can be checked on it (QEMU did not expand host/max; probe it again, or leave it out)")
            }
        }
        // Hosts read from identical files are computed once: one representative each, its hosts listed in `members`.
        var representatives: [Int] = []
        var members: [[Int]] = []
        var groupOf: [Int: Int] = [:]
        for (index, host) in hosts.enumerated() {
            if let shared = host.sharedResult, let group = groupOf[shared] {
                members[group].append(index)
            } else {
                if let shared = host.sharedResult { groupOf[shared] = representatives.count }
                representatives.append(index)
                members.append([index])
            }
        }
        let distinct = representatives.map { hosts[$0] }
        let report = BaselineReport(
            hosts: hosts.map { .init(label: $0.label, paths: $0.paths, version: $0.report.version, arch: $0.report.arch) },
            askedModels: asked,
            accelerators: names.map { name in accelerator(name, hosts: distinct.map { $0.accelerator(name)! },
                                                          builds: distinct.map { "\($0.report.version) \($0.report.version.package)" },
                                                          members: members, labels: hosts.map(\.label),
                                                          arch: hosts.lazy.compactMap(\.report.arch).first, asked: asked,
                                                          rule: rule, cpu: cpu) })
        return report
    }

    /// One accelerator's baseline over distinct results: `sections[i]` stands for the hosts `members[i]` (indexes
    /// into `labels`, ascending), which all had the same result.
    static func accelerator(_ name: String, hosts sections: [ProbeReport.Accelerator], builds: [String], members: [[Int]],
                            labels: [String], arch: String?, asked: [String]?, rule: BaselineReport.ModelRule = .libvirt,
                            cpu: CPUSpec? = nil) -> BaselineReport.Accelerator {
        var index = FeatureIndex(arch: arch)
        var notes: [String] = []
        var modelIDs: [String: Int] = [:]
        var modelNames: [String] = []
        var aliasOf: [String?] = []
        var deprecated: [Bool] = []
        var usableCount: [Int] = []
        var groups: [[GroupKey: [Int]]] = []
        var presence: [FeatureSet] = []
        presence.reserveCapacity(sections.count)
        var shared: FeatureSet?
        var knownEverywhere: FeatureSet?
        var hostsWithoutHostModel: [String] = []
        let askedSet = asked.map(Set.init)
        if let asked {
            for model in asked where modelIDs[model] == nil {
                modelIDs[model] = modelNames.count
                modelNames.append(model)
                aliasOf.append(nil); deprecated.append(false); usableCount.append(0); groups.append([:])
            }
        }

        var buildsSeen = Set<String>()
        var buildIDs: [String: Int] = [:]
        var lastList: [[([String], FeatureSet)?]] = []  // per build, per model: the last blocker list and its set
        for (hostIndex, section) in sections.enumerated() {
            if let host = section.hostModel {
                let set = index.set(host.migratable, featuresOnly: true)
                if shared == nil { shared = set } else { shared!.formIntersection(set) }
                // The feature names a QEMU knows depend on its build only: read them once per build.
                if buildsSeen.insert(builds[hostIndex]).inserted {
                    var booleans: [String] = []
                    for (key, value) in host.props where value.boolValue != nil { booleans.append(key) }
                    let known = index.set(booleans, featuresOnly: true)
                    if knownEverywhere == nil { knownEverywhere = known } else { knownEverywhere!.formIntersection(known) }
                }
            } else {
                hostsWithoutHostModel += members[hostIndex].map { labels[$0] }
                shared = FeatureSet()
            }
            let build = buildIDs[builds[hostIndex]] ?? {
                buildIDs[builds[hostIndex]] = lastList.count
                lastList.append([])
                return lastList.count - 1
            }()
            var present = FeatureSet()
            // Field by field through the buffer: copying whole models would retain every list of every model.
            section.models.withUnsafeBufferPointer { models in
                for position in models.indices {
                    let name = models[position].name
                    if let askedSet, !askedSet.contains(name) { continue }
                    let id: Int
                    if let existing = modelIDs[name] {
                        id = existing
                    } else {
                        id = modelNames.count
                        modelIDs[name] = id
                        modelNames.append(name)
                        aliasOf.append(models[position].aliasOf); deprecated.append(models[position].deprecated == true)
                        usableCount.append(0); groups.append([:])
                    }
                    if present.contains(id) { continue }
                    present.insert(id)
                    switch models[position].usable {
                    case true?: usableCount[id] += members[hostIndex].count
                    case false?:
                        // Hosts of one QEMU build and hardware repeat the same list: compare it (cheap) before hashing
                        // each name again.
                        let list = models[position].dropped ?? models[position].blockers ?? []
                        let blockers: FeatureSet
                        if id < lastList[build].count, let (previous, set) = lastList[build][id], previous == list {
                            blockers = set
                        } else {
                            blockers = index.set(list)
                            while lastList[build].count <= id { lastList[build].append(nil) }
                            lastList[build][id] = (list, blockers)
                        }
                        groups[id][GroupKey(blockers: blockers, unknown: false), default: []].append(hostIndex)
                    case nil:
                        groups[id][GroupKey(blockers: FeatureSet(), unknown: true), default: []].append(hostIndex)
                    }
                }
            }
            presence.append(present)
        }
        if !hostsWithoutHostModel.isEmpty {
            notes.append("no host model on \(hostsWithoutHostModel.count) host(s) (\(hostsWithoutHostModel.prefix(5).joined(separator: ", "))): no features are known to be shared")
        }

        // Rows: blocked groups plus the hosts that lack the model, most hosts first. Names are sorted by a rank
        // computed once, and each distinct blocker set is spelled out once.
        let rank = index.rankByName()
        var spelled: [FeatureSet: [String]] = [:]
        func names(_ set: FeatureSet) -> [String] {
            if let known = spelled[set] { return known }
            let list = set.ids.sorted { rank[$0] < rank[$1] }.map(index.name)
            spelled[set] = list
            return list
        }
        var rows: [BaselineReport.ModelRow] = []
        rows.reserveCapacity(modelNames.count)
        for (id, name) in modelNames.enumerated() {
            func expand(_ distinct: [Int]) -> [Int] {
                distinct.count == 1 ? members[distinct[0]] : distinct.flatMap { members[$0] }.sorted()
            }
            var blockedBy = groups[id].map { key, hosts in
                BaselineReport.Blocking(hosts: expand(hosts), missing: false, blockers: names(key.blockers), unknown: key.unknown)
            }
            let missing = expand(presence.indices.filter { !presence[$0].contains(id) })
            if !missing.isEmpty { blockedBy.append(.init(hosts: missing, missing: true, blockers: [], unknown: false)) }
            blockedBy.sort { ($0.hosts.count, $1.blockers.count, $1.hosts.first ?? 0) > ($1.hosts.count, $0.blockers.count, $0.hosts.first ?? 0) }
            rows.append(.init(name: name, aliasOf: aliasOf[id], usableCount: usableCount[id], blockedBy: blockedBy))
        }

        let sharedSet = shared ?? FeatureSet()
        var choice = BaselineModelChoice(sections: sections, builds: builds, members: members, shared: sharedSet,
                                         known: knownEverywhere ?? FeatureSet())
        let (vendor, vendorBasis) = hostsVendor(sections, members: members, labels: labels)
        var baseline: BaselineReport.BaselineCPU?
        if rule == .libvirt {
            baseline = choice.libvirtChoice(rows: rows, deprecated: deprecated, vendor: vendor, index: &index, notes: &notes)
            if baseline == nil {
                notes.append("no model is expanded by every host (libvirt's recorded probes expand none): libvirt's rule needs each model's features; the model usable as it is was taken instead")
                baseline = choice.usableAsIsChoice(rows: rows, deprecated: deprecated, vendor: vendor, rule: .usableAsIs,
                                                   index: &index, notes: &notes)
            }
        } else {
            baseline = choice.usableAsIsChoice(rows: rows, deprecated: deprecated, vendor: nil, rule: .usableAsIs,
                                               index: &index, notes: &notes)
        }
        var section = BaselineReport.Accelerator(name: name, models: rows, shared: index.names(sharedSet), baseline: baseline, notes: notes)
        section.vendor = vendor
        section.vendorBasis = vendorBasis
        if let cpu {
            var on = FeatureSet(), off = FeatureSet()
            for (feature, request) in cpu.requests {
                switch request {
                case .on: on.insert(index.intern(feature))
                case .off: off.insert(index.intern(feature))
                case .optional: break  // on where the host gives it: never blocks
                }
            }
            var checked = choice.cpu(cpu.model, plus: on, minus: off, rule: nil, known: true, index: &index)
            checked.paravirtual = []
            section.checked = checked
        }
        return section
    }

    /// The hosts' vendor: the `vendor` property of each host model (``CPUVendor/vendor(of:)``). One vendor on every
    /// host that names one: that vendor; several: none (libvirt refuses such a baseline, "CPU vendors do not
    /// match"); none named: unknown, and models of every vendor are considered, as libvirt does without a vendor.
    static func hostsVendor(_ sections: [ProbeReport.Accelerator], members: [[Int]], labels: [String]) -> (String?, String) {
        var byVendor: [String: [Int]] = [:]
        var unnamed: [Int] = []
        for (position, section) in sections.enumerated() {
            if let vendor = CPUVendor.vendor(of: section.hostModel) {
                byVendor[vendor, default: []] += members[position]
            } else {
                unnamed += members[position]
            }
        }
        func hosts(_ list: [Int]) -> String {
            list.sorted().prefix(3).map { labels[$0] }.joined(separator: ", ") + (list.count > 3 ? " and \(list.count - 3) more" : "")
        }
        let without = unnamed.isEmpty ? "" : "; \(unnamed.count) host(s) name none (\(hosts(unnamed)))"
        switch byVendor.count {
        case 0:
            return (nil, "no host model names a vendor: models of every vendor are considered")
        case 1:
            let vendor = byVendor.keys.first!
            return (vendor, "the vendor property of every host model\(without)")
        default:
            let list = byVendor.sorted { $0.key < $1.key }.map { "\($0.key): \(hosts($0.value))" }.joined(separator: "; ")
            return (nil, "the hosts are of several vendors (\(list))\(without): libvirt refuses such a baseline (CPU vendors do not match), and under KVM each guest would see its host's vendor change on migration; models of every vendor are considered")
        }
    }
}
