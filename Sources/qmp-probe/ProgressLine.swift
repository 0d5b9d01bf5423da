import Foundation
import NIOConcurrencyHelpers

/// A single progress line on stderr, only when stderr is a terminal.
final class ProgressLine: Sendable {
    /// Whether stderr is a terminal.
    let enabled = isatty(2) == 1
    private let last = NIOLockedValueBox(ContinuousClock.now - .seconds(1))

    /// Rewrites the line (at most every 50 ms).
    func update(_ text: String) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let due = last.withLockedValue { last in
            guard now - last > .milliseconds(50) else { return false }
            last = now
            return true
        }
        if due { FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8)) }
    }

    /// Erases the line.
    func clear() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
