import Foundation
import NIOConcurrencyHelpers

/// Records a QMP session to a JSON Lines file, message by message.
///
/// The first line is the ``SessionHeader`` (written when the greeting arrives, so it carries the greeting and
/// QEMU's version); every other line is `{"dir":"out"|"in","t":SECONDS,"msg":MESSAGE}`, with `t` the time since
/// the recorder was made. Each line goes to the file with one `write(2)` as soon as the message crosses the
/// wire, so a process that dies leaves a valid prefix. Secrets in commands are redacted (``SecretRedaction``).
/// A failed write is kept and reported by ``finish()``: nothing is dropped silently.
public final class SessionRecorder: QMPTrafficObserver, @unchecked Sendable {
    /// The file being written.
    public let path: String
    private let lock = NIOLock()
    private var header: SessionHeader
    private var fd: Int32
    private var headerWritten = false
    private var beforeGreeting: [[UInt8]] = []
    private var writeError: String?
    private let start = ContinuousClock.now

    /// Creates (or truncates) `path` with owner-only permissions.
    /// - Throws: ``QMPError/invalidState(_:)`` when the file cannot be created.
    public init(path: String, header: SessionHeader) throws {
        self.path = path
        self.header = header
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw QMPError.invalidState("cannot create the recording \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    public func sent(_ bytes: [UInt8]) {
        var message = Array(bytes.prefix { $0 != 0x0D && $0 != 0x0A })
        if SecretRedaction.mayContainSecret(message), let json = try? JSON.parse(message) {
            message = SecretRedaction.redact(json).serializedBytes()
        }
        append(direction: "out", message: message)
    }

    public func received(_ text: [UInt8]) {
        lock.withLock {
            if !headerWritten {
                if let json = try? JSON.parse(text), let greeting = json["QMP"] {
                    header.greeting = greeting
                    writeHeaderLocked()
                    for line in beforeGreeting { writeLocked(line) }
                    beforeGreeting = []
                    return
                }
            }
            appendLocked(direction: "in", message: text)
        }
    }

    /// Updates header members before the header is written (e.g. the target arch once known).
    public func updateHeader(_ update: (inout SessionHeader) -> Void) {
        lock.withLock { if !headerWritten { update(&header) } }
    }

    /// Writes anything still held (the header, if no greeting ever came) and closes the file.
    /// - Throws: ``QMPError/invalidState(_:)`` when any write failed.
    public func finish() throws {
        let error: String? = lock.withLock {
            if !headerWritten { writeHeaderLocked() }
            for line in beforeGreeting { writeLocked(line) }
            beforeGreeting = []
            if fd >= 0 {
                close(fd)
                fd = -1
            }
            return writeError
        }
        if let error { throw QMPError.invalidState("the recording \(path) is incomplete: \(error)") }
    }

    private func append(direction: String, message: [UInt8]) {
        lock.withLock { appendLocked(direction: direction, message: message) }
    }

    private func appendLocked(direction: String, message: [UInt8]) {
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.inSeconds
        var line = Array("{\"dir\":\"\(direction)\",\"t\":\(String(format: "%.6f", seconds)),\"msg\":".utf8)
        if message.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            // Pretty-printed input: keep JSON Lines valid by re-serializing compactly.
            line += (try? JSON.parse(message))?.serializedBytes() ?? Array("null".utf8)
        } else {
            line += message
        }
        line += Array("}\n".utf8)
        if headerWritten { writeLocked(line) } else { beforeGreeting.append(line) }
    }

    private func writeHeaderLocked() {
        headerWritten = true
        var line = JSON.object(header.json).serializedBytes()
        line.append(0x0A)
        writeLocked(line)
    }

    private func writeLocked(_ line: [UInt8]) {
        guard fd >= 0 else {
            writeError = writeError ?? "written after finish()"
            return
        }
        var offset = 0
        while offset < line.count {
            let written = line[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                writeError = writeError ?? String(cString: strerror(errno))
                return
            }
            offset += written
        }
    }
}
