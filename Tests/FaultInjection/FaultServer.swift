import Foundation
import QMP

/// A scripted QMP server for fault injection: it listens on a socketpair (the client gets the other end as a
/// ``QMPEndpoint/connectedSocket(descriptor:)``) or on a Unix socket path (for the command line's `--socket`),
/// accepts one connection and runs a script on its own thread with blocking I/O.
///
/// Nothing hangs: every read and write has a socket timeout, writes never raise SIGPIPE, and ``waitUntilDone(timeout:)``
/// gives up after its deadline (closing the connection so that a blocked script ends).
public final class FaultServer: @unchecked Sendable {
    /// Where the client connects.
    public let endpoint: QMPEndpoint
    /// The socket path, when listening on one.
    public let path: String?
    private let lock = NSLock()
    private var serverFD: Int32 = -1
    private var listenFD: Int32 = -1
    private var connection: FaultConnection?
    private var done = false
    private var scriptError: String?

    /// A server on a socketpair; the client takes ownership of ``endpoint``'s descriptor when it connects.
    public init() throws {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw FaultError("socketpair: \(String(cString: strerror(errno)))")
        }
        serverFD = pair[0]
        endpoint = .connectedSocket(descriptor: pair[1])
        path = nil
    }

    /// A server listening on a Unix socket at `path` (created here, mode 0600).
    public init(path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FaultError("socket: \(String(cString: strerror(errno)))") }
        unlink(path)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw FaultError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FaultError("bind/listen \(path): \(reason)")
        }
        chmod(path, 0o600)
        listenFD = fd
        endpoint = .unix(path: path)
        self.path = path
    }

    deinit {
        if serverFD >= 0 { close(serverFD) }
        if listenFD >= 0 { close(listenFD) }
        if let path { unlink(path) }
    }

    /// Runs `script` on a new thread once a client is there (at once for a socketpair; after `accept` for a path,
    /// which waits up to `acceptTimeout`). A thrown error is kept for ``waitUntilDone(timeout:)``.
    public func start(acceptTimeout: Double = 20, ioTimeout: Double = 20,
                      _ script: @escaping @Sendable (FaultConnection) throws -> Void) {
        let thread = Thread { [self] in
            defer {
                lock.lock()
                done = true
                lock.unlock()
            }
            var fd: Int32
            lock.lock()
            fd = serverFD
            serverFD = -1
            lock.unlock()
            if fd < 0 {
                var poller = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, Int32(acceptTimeout * 1000)) == 1 else {
                    record("no client connected within \(acceptTimeout) s")
                    return
                }
                fd = accept(listenFD, nil, nil)
                guard fd >= 0 else {
                    record("accept: \(String(cString: strerror(errno)))")
                    return
                }
            }
            let connection = FaultConnection(fd: fd, ioTimeout: ioTimeout)
            lock.lock()
            self.connection = connection
            lock.unlock()
            do {
                try script(connection)
            } catch {
                record("\(error)")
            }
            connection.close()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func record(_ error: String) {
        lock.lock()
        scriptError = scriptError ?? error
        lock.unlock()
    }

    /// Waits for the script to end; after `timeout` closes its connection (so blocked I/O fails) and waits a little
    /// more. Returns the script's error, if any, or a note that it did not end.
    @discardableResult
    public func waitUntilDone(timeout: Double = 30) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var closed = false
        while true {
            let (finished, error, connection) = lock.withLock { (done, scriptError, self.connection) }
            if finished { return error }
            if Date() > deadline {
                if closed { return "the script did not end within \(timeout) s" }
                connection?.close()
                closed = true
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The greeting of a QEMU 7.2 with the `oob` capability, CRLF-terminated.
    public static let greeting = #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fault-server"}, "capabilities": ["oob"]}}"# + "\r\n"
}

/// One accepted connection of a ``FaultServer``: blocking reads and writes with timeouts.
public final class FaultConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32, ioTimeout: Double) {
        self.fd = fd
        var time = timeval(tv_sec: Int(ioTimeout), tv_usec: Int((ioTimeout - Double(Int(ioTimeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    private var descriptor: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return fd
    }

    /// Writes all of `bytes`; false when the peer is gone or the write timed out (never SIGPIPE).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let fd = descriptor
            guard fd >= 0 else { return false }
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Writes `text` as UTF-8; see ``send(_:)-([UInt8])``.
    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads the next CRLF- or LF-terminated message the client wrote, parsed; nil at EOF, on a timeout or on a
    /// line that is not JSON.
    public func readMessage() -> JSON? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = buffer[..<newline]
                buffer.removeSubrange(...newline)
                if line.allSatisfy({ $0 == 0x0D || $0 == 0x20 }) { continue }
                return try? JSON.parse(line)
            }
            let fd = descriptor
            guard fd >= 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }

    /// Sends the greeting, reads `qmp_capabilities` and answers it; false when the client did not negotiate.
    @discardableResult
    public func greetAndNegotiate() -> Bool {
        guard send(FaultServer.greeting), let command = readMessage(),
              command["execute"]?.stringValue == "qmp_capabilities" else { return false }
        return reply(to: command, with: .object([:]))
    }

    /// Starts a reply whose string never ends and writes `size` bytes of it: one line far above any message limit.
    /// - Returns: true when all of it was written (the client kept reading), false once the client stopped.
    public func sendUnterminatedReply(size: Int) -> Bool {
        guard send(#"{"return": ""#) else { return false }
        let block = [UInt8](repeating: UInt8(ascii: "A"), count: 1 << 16)
        for _ in 0..<size / block.count {
            guard send(block) else { return false }
        }
        return true
    }

    /// Answers `command` with `{"return": value, "id": its id}`.
    @discardableResult
    public func reply(to command: JSON, with value: JSON) -> Bool {
        var reply: JSONObject = ["return": value]
        reply["id"] = command["id"]
        return send(JSON.object(reply).serializedBytes() + [0x0D, 0x0A])
    }

    /// Closes the connection (idempotent).
    public func close() {
        lock.lock()
        let fd = self.fd
        self.fd = -1
        lock.unlock()
        if fd >= 0 {
            shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
        }
    }
}

/// A failure of the fault-injection machinery itself (not of the code under test).
public struct FaultError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String
    /// An error with a message.
    public init(_ description: String) { self.description = description }
}
