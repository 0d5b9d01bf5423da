import Foundation
import Synchronization
import Logging
import QMP

/// The per-model expansions of a probe: pipelined on one session, or fanned out over the lanes of several sessions
/// (`ProbeGatherer.helpers`, `--workers`).
extension ProbeGatherer {
    // MARK: Models

    /// The expansion asked for each model: the one whose boolean properties are its features
    /// (``QEMUTarget/featureExpansionType``: static on x86, full elsewhere), and on x86, for a model whose static
    /// expansion fails, the full one the report then reads instead (``QEMUTarget/featureExpansion(_:)``). Nothing else
    /// reads a model's expansion: x86's full expansions (every spelling, non-feature properties) and s390x's static
    /// ones (a difference from the `-base` model) are not asked.
    static func modelExpansionTypes(arch: String?) -> (first: String, fallback: String?) {
        let target = QEMUTarget(arch: arch)
        return (target.featureExpansionType, target.family == .x86 ? "full" : nil)
    }

    /// The models whose expansion to ask: every model that is not an alias of a listed one (of ``onlyModels``).
    func expansionTargets(_ definitions: [CPUDefinition]) -> [String] {
        definitions.filter { $0.aliasOf == nil && (onlyModels?.contains($0.name) ?? true) }.map(\.name)
            + definitions.compactMap { definition in
                // An alias whose target is not listed is expanded itself.
                guard let alias = definition.aliasOf, !definitions.contains(where: { $0.name == alias }) else { return nil }
                return (onlyModels?.contains(definition.name) ?? true) ? definition.name : nil
            }
    }

    /// Every model's expansion, but `skipping` (the host model's own name, see ``hostModelAmongTargets(_:arch:)``).
    func expandAll(_ definitions: [CPUDefinition], arch: String?, skipping: String? = nil,
                   notes: inout [String]) async throws -> [String: AcceleratorProbe.ModelExpansions] {
        let targets = expansionTargets(definitions).filter { $0 != skipping }
        // Probe with an ordinary model: libvirt's recordings hold expansions of host and max only.
        guard let first = targets.first(where: { !["host", "max", "base"].contains($0) }) ?? targets.first else { return [:] }
        let types = Self.modelExpansionTypes(arch: arch)
        // One command first: when the recording lacks per-model expansions, skip them all at once.
        let probe = try await expansion(types.first, name: first, props: nil)
        if case .unavailable(let error) = probe, case .notRecorded = error {
            notes.append("per-model expansions are not in the recording: added/enabled features are unknown")
            return [:]
        }
        let firstResults = try await withFallback(types, name: first, answer: probe, on: client)
        let total = targets.count
        let counter = Counter()
        let results = !helpers.isEmpty
            ? try await expandShared(targets: targets.filter { $0 != first }, types: types, first: firstResults,
                                     total: total, counter: counter)
            : try await withThrowingTaskGroup(of: [ExpansionResult].self) { group in
            for name in targets where name != first {
                group.addTask {
                    let answers = try await modelExpansion(types, name: name, on: client)
                    progress?(counter.increment(), total)
                    return answers
                }
            }
            var collected = firstResults
            collected.reserveCapacity(total)
            for try await result in group { collected += result }
            return collected
        }
        var expansions: [String: AcceleratorProbe.ModelExpansions] = [:]
        Self.record(results, into: &expansions, notes: &notes)
        Self.shareWithAliases(definitions, &expansions)
        return expansions
    }

    /// Puts each answered expansion of `results` in `expansions` (by model and type); the failures make one note.
    static func record(_ results: [ExpansionResult], into expansions: inout [String: AcceleratorProbe.ModelExpansions],
                       notes: inout [String]) {
        var failures: [String] = []
        for (name, type, answer) in results {
            guard let value = answer.value else {
                failures.append("\(name) (\(type)): \(answer.why)")
                continue
            }
            if type == "static" { expansions[name, default: .init()].staticExpansion = value }
            else { expansions[name, default: .init()].fullExpansion = value }
        }
        if !failures.isEmpty {
            notes.append("expansion failed for \(failures.count) model(s): " + failures.sorted().prefix(5).joined(separator: "; ")
                         + (failures.count > 5 ? "; ..." : ""))
        }
    }

    /// Aliases report their target's expansion (those not expanded themselves).
    static func shareWithAliases(_ definitions: [CPUDefinition], _ expansions: inout [String: AcceleratorProbe.ModelExpansions]) {
        for definition in definitions {
            if let alias = definition.aliasOf, expansions[definition.name] == nil, let target = expansions[alias] {
                expansions[definition.name] = target
            }
        }
    }

    /// The per-model expansion of the host model's own name (`host` under KVM, `max` under TCG) is the same command
    /// as the host model's expansion without properties: taken from the host model when it holds that expansion (a
    /// static expansion as returned, or the full one), else asked now. Aliases of it report it too.
    func completeHostModelExpansion(_ expansions: inout [String: AcceleratorProbe.ModelExpansions],
                                    host: AcceleratorProbe.HostModel?, name: String, definitions: [CPUDefinition],
                                    arch: String?, notes: inout [String]) async throws {
        let types = Self.modelExpansionTypes(arch: arch)
        var held: CPUModelExpansion?
        if let host {
            held = types.first == "static" ? (host.method == .staticExpansion ? host.expansion : nil)
                : host.full ?? (host.method == .fullExpansion ? host.expansion : nil)
        }
        let results: [ExpansionResult]
        if let held {
            results = [(name, types.first, .value(held))]
        } else {
            results = try await modelExpansion(types, name: name, on: client)
        }
        Self.record(results, into: &expansions, notes: &notes)
        Self.shareWithAliases(definitions, &expansions)
    }

    /// The name of the host model when it is also one of several models to expand (`host`, `max`): its expansion is
    /// then left to ``completeHostModelExpansion(_:host:name:definitions:arch:notes:)``, once the others are in.
    func hostModelAmongTargets(_ definitions: [CPUDefinition]?, arch: String?) -> String? {
        let name = QEMUTarget(arch: arch).hostModelName(accelerator: accelerator)
        guard let definitions else { return nil }
        let targets = expansionTargets(definitions)
        return targets.count > 1 && targets.contains(name) ? name : nil
    }

    /// One model's expansion result: name, expansion type, answer.
    typealias ExpansionResult = (String, String, Answer<CPUModelExpansion>)

    /// The expansion of `name` that lists its features, and the fallback's when that fails, on `session`.
    func modelExpansion(_ types: (first: String, fallback: String?), name: String,
                        on session: QMPClient) async throws -> [ExpansionResult] {
        let answer = try await expansion(types.first, name: name, props: nil, on: session)
        return try await withFallback(types, name: name, answer: answer, on: session)
    }

    /// `answer` (of the first type), followed by the fallback expansion's when `answer` is a failure.
    func withFallback(_ types: (first: String, fallback: String?), name: String, answer: Answer<CPUModelExpansion>,
                      on session: QMPClient) async throws -> [ExpansionResult] {
        guard answer.value == nil, let fallback = types.fallback else { return [(name, types.first, answer)] }
        return [(name, types.first, answer), (name, fallback, try await expansion(fallback, name: name, props: nil, on: session))]
    }

    /// The per-model expansions shared between ``client`` and the `helpers`: every session runs twice its
    /// in-flight limit of lanes (so its client always has the next command queued when a reply comes), and each
    /// lane takes the next model from one shared queue. A helper whose connection fails gives its model back to the
    /// queue and stops; a failure of the primary session ends the probe as without helpers.
    func expandShared(targets: [String], types: (first: String, fallback: String?), first: [ExpansionResult], total: Int,
                      counter: Counter) async throws -> [ExpansionResult] {
        let queue = ExpansionQueue(targets)
        @Sendable func lane(_ session: QMPClient, isHelper: Bool) async throws -> [ExpansionResult] {
            var done: [ExpansionResult] = []
            while let name = queue.next() {
                do {
                    done += try await modelExpansion(types, name: name, on: session)
                    progress?(counter.increment(), total)
                } catch {
                    guard isHelper else { throw error }
                    queue.giveBack(name)
                    return done
                }
            }
            return done
        }
        let lanes = max(1, client.configuration.maxInFlight) * 2
        var results = try await withThrowingTaskGroup(of: [ExpansionResult].self) { group in
            for _ in 0..<lanes { group.addTask { try await lane(client, isHelper: false) } }
            for helper in helpers {
                group.addTask {
                    guard let session = await helper() else { return [] }
                    let lanes = max(1, session.configuration.maxInFlight) * 2
                    return try await withThrowingTaskGroup(of: [ExpansionResult].self) { inner in
                        for _ in 0..<lanes { inner.addTask { try await lane(session, isHelper: true) } }
                        var collected: [ExpansionResult] = []
                        for try await part in inner { collected += part }
                        return collected
                    }
                }
            }
            var collected = first
            collected.reserveCapacity(total)
            for try await part in group { collected += part }
            return collected
        }
        // Models given back by a helper after the primary session's lanes had finished.
        results += try await lane(client, isHelper: false)
        return results
    }
}
