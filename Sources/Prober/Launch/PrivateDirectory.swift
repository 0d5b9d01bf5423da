import Foundation
import Synchronization

/// A temporary directory only its owner can enter (0700), named after the process that made it, so that
/// a later run can remove the ones left behind by a process that was killed.
package final class PrivateDirectory: Sendable {
    /// The directory's path.
    package let path: String
    /// Name prefix of every directory made here.
    static let prefix = "qmp-probe-"

    /// Creates a fresh directory under `$XDG_RUNTIME_DIR` (or `$TMPDIR`, or `/tmp`), after removing stale ones
    /// (unless `removingStale` is false: the caller then calls ``removeStaleOnce()`` when it suits it).
    package init(removingStale: Bool = true) throws {
        let parent = Self.parent
        if removingStale { Self.removeStaleOnce() }
        var template = Array("\(parent)/\(Self.prefix)\(getpid())-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ProberError.environment("cannot create a private directory in \(parent): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
        chmod(path, 0o700)
        ChildRegistry.shared.add(directory: path)
    }

    deinit { remove() }

    /// Removes the directory and everything in it (idempotent).
    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
        ChildRegistry.shared.remove(directory: path)
    }

    /// Where private directories go.
    static var parent: String {
        let environment = ProcessInfo.processInfo.environment
        for candidate in [environment["XDG_RUNTIME_DIR"], environment["TMPDIR"], "/tmp"] {
            if let candidate, !candidate.isEmpty, access(candidate, W_OK | X_OK) == 0 { return candidate }
        }
        return "/tmp"
    }

    private static let staleRemoved = Mutex(false)

    /// Removes the stale directories in `parent` the first time it is called in this process (a later call does
    /// nothing: what a dead process left is gone after the first).
    package static func removeStaleOnce() {
        guard staleRemoved.withLock({ done in defer { done = true }; return !done }) else { return }
        removeStale(in: parent)
    }

    /// Removes `qmp-probe-PID-*` directories of processes that no longer exist (and that we own).
    ///
    /// It runs before every launch, in a directory (`/tmp`) that may hold thousands of other entries: names are
    /// compared as C strings straight from `readdir`, and only ours become Swift strings.
    static func removeStale(in parent: String) {
        guard let directory = opendir(parent) else { return }
        var candidates: [String] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(directory) {
            // The name is a C string inside an entry that may be shorter than `struct dirent`: read it through a
            // pointer, never by copying the struct (its 256-byte name array can cross the end of the buffer).
            let name = (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self)
            if strncmp(name, prefix, prefix.utf8.count) == 0 {
                candidates.append(String(cString: name))
            }
        }
        closedir(directory)
        for name in candidates {
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]) else { continue }
            let path = "\(parent)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0, info.st_uid == getuid(), (info.st_mode & S_IFMT) == S_IFDIR else { continue }
            if kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }
}
