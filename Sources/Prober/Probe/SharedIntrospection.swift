import Foundation
import Synchronization
import Logging
import QMP

/// One introspection of a QEMU binary (`query-commands`, else `query-qmp-schema`), shared by the sessions that
/// probe it, one per accelerator: the QAPI schema is built into the binary, so the first session to need it asks
/// QEMU and the others, greeted by the same QEMU version, take its answer (or ask themselves if it failed).
public final class SharedIntrospection: Sendable {
    private let answers = Mutex<[String: Task<(QEMUFeatureSupport, String?), any Error>]>([:])

    /// An introspection nobody asked for yet.
    public init() {}

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
