import QMP

/// Computes a ``BaselineReport`` over many hosts. Feature lists become ``FeatureSet`` bitsets over one
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
    /// model or only `models`.
    /// - Throws: ``ProberError/invalidInput(_:)`` for no hosts, or an accelerator missing on a host or on all.
    public static func compute(hosts: [HostResult], accelerators requested: [String]? = nil,
                               models asked: [String]? = nil) throws -> BaselineReport {
        guard let first = hosts.first else { throw ProberError.invalidInput("no host results given") }
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
                                                          arch: hosts.lazy.compactMap(\.report.arch).first, asked: asked) })
        return report
    }

    /// One accelerator's baseline over distinct results: `sections[i]` stands for the hosts `members[i]` (indexes
    /// into `labels`, ascending), which all had the same result.
    static func accelerator(_ name: String, hosts sections: [ProbeReport.Accelerator], builds: [String], members: [[Int]],
                            labels: [String], arch: String?, asked: [String]?) -> BaselineReport.Accelerator {
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
        let baseline = baselineCPU(rows: rows, deprecated: deprecated, sections: sections, builds: builds,
                                   weights: members.map(\.count), shared: sharedSet, known: knownEverywhere ?? FeatureSet(),
                                   index: &index, notes: &notes)
        return BaselineReport.Accelerator(name: name, models: rows, shared: index.names(sharedSet), baseline: baseline, notes: notes)
    }

    /// Picks the base model and its switches. Candidates: models usable on every host, not `host`/`max`/`base`,
    /// unversioned names first (libvirt knows those), not deprecated when another will do. Score: the shared
    /// features the model turns on in every QEMU build of the fleet; ties go to fewer features outside the shared
    /// set, then to QEMU's order.
    static func baselineCPU(rows: [BaselineReport.ModelRow], deprecated: [Bool], sections: [ProbeReport.Accelerator],
                            builds: [String], weights: [Int], shared: FeatureSet, known: FeatureSet, index: inout FeatureIndex,
                            notes: inout [String]) -> BaselineReport.BaselineCPU? {
        func versioned(_ name: String) -> Bool {
            guard let dash = name.lastIndex(of: "-") else { return false }
            let suffix = name[name.index(after: dash)...]
            return suffix.first == "v" && suffix.count > 1 && suffix.dropFirst().allSatisfy(\.isNumber)
        }
        let everywhere = rows.enumerated().filter { $0.element.usableEverywhere && !notBaselines.contains($0.element.name) }
        guard !everywhere.isEmpty else {
            notes.append("no CPU model is usable on every host: no baseline")
            return nil
        }
        let ranked = everywhere.sorted { a, b in
            (versioned(a.element.name) ? 1 : 0, deprecated[a.offset] ? 1 : 0) < (versioned(b.element.name) ? 1 : 0, deprecated[b.offset] ? 1 : 0)
        }
        let bestClass = ranked.first.map { (versioned($0.element.name), deprecated[$0.offset]) }!
        let candidates = ranked.filter { (versioned($0.element.name), deprecated[$0.offset]) == bestClass }.map(\.element.name)

        // One representative host per QEMU build for scoring.
        var representatives: [Int] = []
        var seen = Set<String>()
        for (hostIndex, build) in builds.enumerated() where seen.insert(build).inserted { representatives.append(hostIndex) }
        func enabled(_ model: String, on host: Int) -> [String]? {
            sections[host].models.first { $0.name == model }?.enabled
        }
        // Builds that did not expand the model (libvirt's recorded probes) are left out of its score.
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
            return .init(model: candidates[0], plus: index.names(shared), minus: [], modelFeaturesKnown: false)
        }
        // Exact switches over every host: on where some host's model lacks a shared feature, off where some host's
        // model has a feature that not all host models share (and every QEMU of the fleet knows).
        var common: FeatureSet?
        var all = FeatureSet()
        var unexpanded = 0
        for host in sections.indices {
            guard let list = enabled(chosen, on: host) else { unexpanded += weights[host]; continue }
            let set = index.set(list, featuresOnly: true)
            common = common.map { $0.intersection(set) } ?? set
            all.formUnion(set)
        }
        if unexpanded > 0 {
            notes.append("\(chosen)'s features are taken from the \(weights.reduce(0, +) - unexpanded) host(s) that expanded it; \(unexpanded) did not and are taken to define it the same way")
        }
        let plus = shared.subtracting(common ?? FeatureSet())
        let minus = all.subtracting(shared).intersection(known)
        return .init(model: chosen, plus: index.names(plus), minus: index.names(minus), modelFeaturesKnown: true)
    }
}
