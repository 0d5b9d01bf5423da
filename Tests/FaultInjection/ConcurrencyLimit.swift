import Foundation

/// At most `width` bodies at a time; the others wait their turn (first come, first served).
///
/// The command-line tests start the CPU-bound `qmp-probe` once per row: run all at once, dozens of them would starve
/// the tests that run meanwhile (their fake servers' timeouts expire), so they go through one limit.
public actor ConcurrencyLimit {
    /// The limit shared by the command-line rows: one at a time.
    public static let commandLine = ConcurrencyLimit(width: 1)

    private let width: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// A limit of `width` at a time.
    public init(width: Int) { self.width = width }

    /// Runs `body` once a place is free.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        if running < width {
            running += 1
        } else {
            await withCheckedContinuation { waiting.append($0) }  // the place is handed over by `release`
        }
        defer { release() }
        return try await body()
    }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
