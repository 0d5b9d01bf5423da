import Foundation
import Synchronization
import Logging
import QMP

/// One introspection of a QEMU binary (`query-commands`, else `query-qmp-schema`), shared by the sessions that
/// probe it, one per accelerator: the QAPI schema is built into the binary, so the first session to need it asks
/// QEMU and the others, greeted by the same QEMU version, take its answer (or ask themselves if it failed).
package final class SharedIntrospection: Sendable {
    private let answers = Mutex<[String: Task<(QEMUFeatureSupport, String?), any Error>]>([:])

    /// An introspection nobody asked for yet.
    package init() {}

    /// The answer for `version`: the one already asked for, else `fetch`'s.
    func value(for version: QEMUVersion,
               fetch: @escaping @Sendable () async throws -> (QEMUFeatureSupport, String?)) async throws -> (QEMUFeatureSupport, String?) {
        let key = "\(version) \(version.package)"
        let (task, mine) = answers.withLock { answers in
            if let asked = answers[key] { return (asked, false) }
            let task = Task { try await fetch() }
            answers[key] = task
            return (task, true)
        }
        do {
            return try await task.value
        } catch where !mine {
            return try await fetch()
        }
    }
}

/// The CPU definitions one session of a QEMU binary got, handed to a quiet reference session of the same binary
/// (``ProbeGatherer/referenceOnly``), which then need not ask `query-cpu-definitions` itself: the models are the
/// binary's, and the reference reads only their names. Nil when the publishing session got none or ended first.
final class SharedDefinitions: Sendable {
    private let state = Mutex<(value: [CPUDefinition]??, waiting: [CheckedContinuation<[CPUDefinition]?, Never>])>((nil, []))

    init() {}

    /// Hands `definitions` to the waiting session (the first call counts).
    func publish(_ definitions: [CPUDefinition]?) {
        let waiting = state.withLock { state -> [CheckedContinuation<[CPUDefinition]?, Never>] in
            guard state.value == nil else { return [] }
            state.value = .some(definitions)
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume(returning: definitions) }
    }

    /// The published definitions, once they are.
    func value() async -> [CPUDefinition]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [CPUDefinition]?? in
                if let value = state.value { return .some(value) }
                state.waiting.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

/// The models whose expansion is still to do, shared by the lanes of every session.
final class ExpansionQueue: Sendable {
    private let state: Mutex<(jobs: [String], next: Int, returned: [String])>

    init(_ jobs: [String]) { state = Mutex((jobs, 0, [])) }

    /// The next model to expand, or nil when none is left.
    func next() -> String? {
        state.withLock { state in
            if let job = state.returned.popLast() { return job }
            guard state.next < state.jobs.count else { return nil }
            defer { state.next += 1 }
            return state.jobs[state.next]
        }
    }

    /// Puts back a model whose session failed.
    func giveBack(_ job: String) { state.withLock { $0.returned.append(job) } }
}

/// A thread-safe counter for progress reports.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
