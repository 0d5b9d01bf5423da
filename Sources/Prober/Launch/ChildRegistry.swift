import Foundation
import Synchronization

/// Every QEMU process and private directory this program currently owns, so that a signal handler can end
/// and remove them all (SIGINT, SIGTERM; SIGKILL is covered by the children's parent-death signal and by the
/// next run's clean-up of stale directories).
package final class ChildRegistry: Sendable {
    /// The process-wide registry.
    package static let shared = ChildRegistry()

    private let state = Mutex<(pids: Set<pid_t>, directories: Set<String>)>(([], []))

    /// Registers a started child.
    package func add(pid: pid_t) { state.withLock { _ = $0.pids.insert(pid) } }
    /// Forgets a child that was reaped.
    package func remove(pid: pid_t) { state.withLock { _ = $0.pids.remove(pid) } }
    /// Registers a private directory.
    package func add(directory: String) { state.withLock { _ = $0.directories.insert(directory) } }
    /// Forgets a removed directory.
    package func remove(directory: String) { state.withLock { _ = $0.directories.remove(directory) } }

    /// The children currently registered.
    package var pids: Set<pid_t> { state.withLock { $0.pids } }

    /// Kills (SIGKILL) and reaps every registered child and removes every registered directory.
    package func cleanUp() {
        let (pids, directories) = state.withLock { state in
            defer { state = ([], []) }
            return (state.pids, state.directories)
        }
        for pid in pids {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
    }
}

/// Ends the program cleanly on SIGINT, SIGTERM and SIGHUP: children killed, directories removed, then the
/// conventional exit status (128 + signal).
package enum SignalCleanup {
    private static let sources = Mutex<[any DispatchSourceSignal]>([])
    private static let terminating = Atomic<Bool>(false)

    /// Called by the program before it exits on its own. Once a signal's clean-up has begun, the work it interrupts
    /// (a QEMU killed under it) may fail and reach here first: this waits for the handler to end the process with
    /// the signal, so the exit status is the signal's and not the interrupted work's error.
    package static func yieldToPendingSignal() {
        guard terminating.load(ordering: .acquiring) else { return }
        while true { pause() }
    }

    /// Installs the handlers (idempotent).
    package static func install() {
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    terminating.store(true, ordering: .releasing)
                    ChildRegistry.shared.cleanUp()
                    signal(signalNumber, SIG_DFL)
                    kill(getpid(), signalNumber)
                    _exit(128 + signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
