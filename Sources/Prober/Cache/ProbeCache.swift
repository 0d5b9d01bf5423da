import Foundation

/// How a probe's result is printed: each is one section of a cache entry, so every presentation is served by
/// reading one file.
package enum ProbePresentation: String, Sendable, CaseIterable {
    /// `--json`: ``ProbeReport/json``, serialized, and a newline.
    case json
    /// The summary (``TextReport``).
    case text
    /// The summary with every model's enabled features (`--verbose`).
    case verbose

    /// The bytes printed for `report` in this presentation.
    package func render(_ report: ProbeReport) -> [UInt8] {
        switch self {
        case .json: return Array((report.json.serialized() + "\n").utf8)
        case .text: return Array(TextReport.render(report, verbose: false).utf8)
        case .verbose: return Array(TextReport.render(report, verbose: true).utf8)
        }
    }
}

/// Why the cache cannot be used.
package enum ProbeCacheError: Error, Sendable, CustomStringConvertible {
    /// The cache directory is unsafe (someone else's, a symbolic link, not a directory) or cannot be made.
    case unusableDirectory(String)

    /// The message for the user.
    package var description: String {
        switch self {
        case .unusableDirectory(let reason): return "the cache is not used: \(reason)"
        }
    }
}

/// The on-disk cache of probe results: one file per ``CacheKey`` in a private directory (`0700`, owned by this
/// user; files `0600`), holding the key in full and the printed output of every ``ProbePresentation``.
///
/// Entry format (so that a hit is one `read` and one `write`):
/// ```
/// qmp-probe-cache/1
/// <CacheKey.canonical>
/// json <byte count> text <byte count> verbose <byte count>
/// <the json bytes><the text bytes><the verbose bytes>
/// ```
package final class ProbeCache: Sendable {
    /// The first line of every entry.
    static let magic = "qmp-probe-cache/1"
    /// Entries kept; older ones are removed when a new one is stored.
    package static let maxEntries = 32

    /// The cache directory.
    package let directory: String
    /// An open descriptor of it: entries are opened relative to it, so the directory checked is the one used.
    private let directoryFD: Int32

    /// The default directory: `$XDG_CACHE_HOME/qmp-probe`, else `~/.cache/qmp-probe`; nil when there is no home.
    package static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/qmp-probe" }
        var home = environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        if home == nil, let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
            home = String(cString: directory)
        }
        return home.map { $0 + "/.cache/qmp-probe" }
    }

    /// Opens (and creates, `0700`, its parent too when missing) the cache directory.
    ///
    /// - Throws: ``ProbeCacheError/unusableDirectory(_:)`` when it is owned by someone else, is a symbolic link or
    ///   not a directory, or cannot be created. A directory of ours that others can access is made `0700`.
    package init(directory: String) throws {
        self.directory = directory
        let parent = (directory as NSString).deletingLastPathComponent
        if !parent.isEmpty, mkdir(parent, 0o700) != 0, errno != EEXIST {
            throw ProbeCacheError.unusableDirectory("cannot create \(parent): \(String(cString: strerror(errno)))")
        }
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw ProbeCacheError.unusableDirectory("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ELOOP || errno == ENOTDIR ? "not a directory (or a symbolic link)" : String(cString: strerror(errno))
            throw ProbeCacheError.unusableDirectory("\(directory): \(reason)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            close(fd)
            throw ProbeCacheError.unusableDirectory("\(directory) is not a directory")
        }
        guard info.st_uid == geteuid() else {
            close(fd)
            throw ProbeCacheError.unusableDirectory("\(directory) belongs to uid \(info.st_uid), not to this user (uid \(geteuid()))")
        }
        if info.st_mode & 0o077 != 0, fchmod(fd, 0o700) != 0 {
            close(fd)
            throw ProbeCacheError.unusableDirectory("\(directory) is open to others and cannot be made private")
        }
        directoryFD = fd
    }

    deinit { close(directoryFD) }

    /// The entry file's name for `key`.
    static func fileName(_ key: CacheKey) -> String { key.digest + ".entry" }

    /// The `presentation` section of `key`'s entry, or nil on a miss (no entry, another key, a damaged entry, or a
    /// file that is not a private regular file of this user).
    package func lookup(_ key: CacheKey, _ presentation: ProbePresentation) -> [UInt8]? {
        guard let bytes = readEntry(Self.fileName(key)) else { return nil }
        return Self.section(of: bytes, key: key.canonical, presentation)
    }

    /// Stores the output of every presentation for `key` (written to a private temporary file, then renamed over
    /// the entry, so readers never see half an entry), then removes the oldest entries beyond ``maxEntries``.
    package func store(_ outputs: [ProbePresentation: [UInt8]], for key: CacheKey) throws {
        var entry = Array("\(Self.magic)\n\(key.canonical)\n".utf8)
        entry += Array(ProbePresentation.allCases.map { "\($0.rawValue) \(outputs[$0]?.count ?? 0)" }
            .joined(separator: " ").utf8)
        entry.append(0x0A)
        for presentation in ProbePresentation.allCases { entry += outputs[presentation] ?? [] }

        let temporary = ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = openat(directoryFD, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ProbeCacheError.unusableDirectory("cannot write in \(directory): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o600)
        let written = Self.writeAll(fd, entry)
        close(fd)
        guard written, renameat(directoryFD, temporary, directoryFD, Self.fileName(key)) == 0 else {
            unlinkat(directoryFD, temporary, 0)
            throw ProbeCacheError.unusableDirectory("cannot write in \(directory): \(String(cString: strerror(errno)))")
        }
        prune(keeping: Self.fileName(key))
    }

    /// Removes every entry (and stale temporary file).
    package func removeAll() {
        for (name, _) in entries(includingTemporary: true) { unlinkat(directoryFD, name, 0) }
    }

    // MARK: Reading

    private func readEntry(_ name: String) -> [UInt8]? {
        let fd = openat(directoryFD, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid(),
              info.st_mode & 0o022 == 0, info.st_size > 0, info.st_size < 256 << 20 else { return nil }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, size - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            offset += count
        }
        return bytes
    }

    /// The section of an entry, after checking its magic line and its key line.
    static func section(of bytes: [UInt8], key: String, _ presentation: ProbePresentation) -> [UInt8]? {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while lines.count < 3, index < bytes.count {
            if bytes[index] == 0x0A {
                lines.append(bytes[start..<index])
                start = index + 1
            }
            index += 1
        }
        guard lines.count == 3, lines[0].elementsEqual(magic.utf8), lines[1].elementsEqual(key.utf8) else { return nil }
        let fields = String(decoding: lines[2], as: UTF8.self).split(separator: " ")
        guard fields.count == 2 * ProbePresentation.allCases.count else { return nil }
        var offset = start
        for (position, candidate) in ProbePresentation.allCases.enumerated() {
            guard fields[2 * position] == candidate.rawValue, let length = Int(fields[2 * position + 1]), length >= 0,
                  offset + length <= bytes.count else { return nil }
            if candidate == presentation { return length > 0 ? Array(bytes[offset..<offset + length]) : nil }
            offset += length
        }
        return nil
    }

    // MARK: Housekeeping

    private func entries(includingTemporary: Bool) -> [(name: String, modified: Int64)] {
        let fd = dup(directoryFD)
        guard fd >= 0, let stream = fdopendir(fd) else { return [] }
        defer { closedir(stream) }
        rewinddir(stream)
        var result: [(String, Int64)] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard name.hasSuffix(".entry") || (includingTemporary && name.hasPrefix(".tmp-")) else { continue }
            var info = stat()
            guard fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            result.append((name, Int64(info.st_mtim.tv_sec)))
        }
        return result
    }

    private func prune(keeping kept: String) {
        let all = entries(includingTemporary: false).filter { $0.name != kept }
        guard all.count >= Self.maxEntries else { return }
        for entry in all.sorted(by: { $0.modified < $1.modified }).prefix(all.count - Self.maxEntries + 1) {
            unlinkat(directoryFD, entry.name, 0)
        }
    }

    /// Writes every byte to `fd` (retrying short writes and EINTR); false on an error.
    @discardableResult
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }
}

/// A probe served from a ``ProbeCache`` when its ``CacheKey`` is there, else run and stored.
package struct CachedProbe: Sendable {
    /// The cache.
    package let cache: ProbeCache
    /// The key of this probe.
    package let key: CacheKey

    /// A cached probe of `key` in `cache`.
    package init(cache: ProbeCache, key: CacheKey) {
        self.cache = cache
        self.key = key
    }

    /// The printed output of `presentation`: from the cache when the key matches (`fromCache` true, `probe` not
    /// called), else from `probe`, whose report is then stored in every presentation.
    /// - Throws: whatever `probe` throws (nothing is stored then). A failure to store is not an error.
    package func output(_ presentation: ProbePresentation,
                       probe: () async throws -> ProbeReport) async rethrows -> (bytes: [UInt8], fromCache: Bool) {
        try await output(presentation, rendering: { render in render(try await probe()) })
    }

    /// ``output(_:probe:)`` for a probe that renders its report itself (``ProbeRunner/run(against:finish:)`` renders
    /// it while its QEMUs are stopped): `probe` gets the function that renders every presentation.
    package func output(_ presentation: ProbePresentation,
                       rendering probe: (@Sendable (ProbeReport) -> [ProbePresentation: [UInt8]]) async throws -> [ProbePresentation: [UInt8]])
        async rethrows -> (bytes: [UInt8], fromCache: Bool) {
        if let bytes = cache.lookup(key, presentation) { return (bytes, true) }
        let outputs = try await probe { report in
            Dictionary(uniqueKeysWithValues: ProbePresentation.allCases.map { ($0, $0.render(report)) })
        }
        try? cache.store(outputs, for: key)
        return (outputs[presentation] ?? [], false)
    }
}
