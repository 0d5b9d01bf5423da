import Foundation
import Synchronization
import Logging
import QMP

/// The per-model expansions of a probe: pipelined on one session, or fanned out over the lanes of several sessions
/// (`ProbeGatherer.helpers`, `--workers`).
extension ProbeGatherer {
    // MARK: Models

    func expandAll(_ definitions: [CPUDefinition], arch: String?,
                   notes: inout [String]) async throws -> [String: AcceleratorProbe.ModelExpansions] {
        let targets = definitions.filter { $0.aliasOf == nil && (onlyModels?.contains($0.name) ?? true) }.map(\.name)
            + definitions.compactMap { definition in
                // An alias whose target is not listed is expanded itself.
                guard let alias = definition.aliasOf, !definitions.contains(where: { $0.name == alias }) else { return nil }
                return (onlyModels?.contains(definition.name) ?? true) ? definition.name : nil
            }
        // Probe with an ordinary model: libvirt's recordings hold expansions of host and max only.
        guard let first = targets.first(where: { !["host", "max", "base"].contains($0) }) ?? targets.first else { return [:] }
        let types = QEMUTarget(arch: arch).modelExpansionTypes
        // One command first: when the recording lacks per-model expansions, skip them all at once.
        let probe = try await expansion(types[0], name: first, props: nil)
        if case .unavailable(let error) = probe, case .notRecorded = error {
            notes.append("per-model expansions are not in the recording: added/enabled features are unknown")
            return [:]
        }
        let total = targets.count * types.count
        let counter = Counter()
        let results = !helpers.isEmpty
            ? try await expandShared(targets: targets, types: types, first: (first, probe), total: total, counter: counter)
            : try await withThrowingTaskGroup(of: (String, String, Answer<CPUModelExpansion>).self) { group in
            for name in targets {
                for type in types {
                    group.addTask {
                        if name == first && type == types[0] { return (name, type, probe) }
                        let answer = try await expansion(type, name: name, props: nil)
                        progress?(counter.increment(), total)
                        return (name, type, answer)
                    }
                }
            }
            var collected: [(String, String, Answer<CPUModelExpansion>)] = []
            collected.reserveCapacity(total)
            for try await result in group { collected.append(result) }
            return collected
        }
        var expansions: [String: AcceleratorProbe.ModelExpansions] = [:]
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
        // Aliases report their target's expansion.
        for definition in definitions {
            if let alias = definition.aliasOf, expansions[definition.name] == nil, let target = expansions[alias] {
                expansions[definition.name] = target
            }
        }
        return expansions
    }

    /// The per-model expansions shared between ``client`` and the ``helpers``: every session runs twice its
    /// in-flight limit of lanes (so its client always has the next command queued when a reply comes), and each
    /// lane takes the next expansion from one shared queue. A helper whose connection fails gives its expansion
    /// back to the queue and stops; a failure of the primary session ends the probe as without helpers.
    func expandShared(targets: [String], types: [String], first: (String, Answer<CPUModelExpansion>), total: Int,
                      counter: Counter) async throws -> [(String, String, Answer<CPUModelExpansion>)] {
        var jobs: [(String, String)] = []
        jobs.reserveCapacity(total)
        for name in targets {
            for type in types where !(name == first.0 && type == types[0]) { jobs.append((name, type)) }
        }
        let queue = ExpansionQueue(jobs)
        typealias Result = (String, String, Answer<CPUModelExpansion>)
        @Sendable func lane(_ session: QMPClient, isHelper: Bool) async throws -> [Result] {
            var done: [Result] = []
            while let job = queue.next() {
                do {
                    let answer = try await expansion(job.1, name: job.0, props: nil, on: session)
                    progress?(counter.increment(), total)
                    done.append((job.0, job.1, answer))
                } catch {
                    guard isHelper else { throw error }
                    queue.giveBack(job)
                    return done
                }
            }
            return done
        }
        let lanes = max(1, client.configuration.maxInFlight) * 2
        var results = try await withThrowingTaskGroup(of: [Result].self) { group in
            for _ in 0..<lanes { group.addTask { try await lane(client, isHelper: false) } }
            for helper in helpers {
                group.addTask {
                    guard let session = await helper() else { return [] }
                    let lanes = max(1, session.configuration.maxInFlight) * 2
                    return try await withThrowingTaskGroup(of: [Result].self) { inner in
                        for _ in 0..<lanes { inner.addTask { try await lane(session, isHelper: true) } }
                        var collected: [Result] = []
                        for try await part in inner { collected += part }
                        return collected
                    }
                }
            }
            var collected: [Result] = [(first.0, types[0], first.1)]
            collected.reserveCapacity(total)
            for try await part in group { collected += part }
            return collected
        }
        // Expansions given back by a helper after the primary session's lanes had finished.
        results += try await lane(client, isHelper: false)
        return results
    }
}
