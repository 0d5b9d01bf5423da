import Dispatch
import Foundation
import Testing

import Glibc

@testable import QMP

/// A tiny thread-safe mailbox: the server thread puts, an async test takes (nil once closed and empty).
final class FakeMailbox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Value] = []
    private var waiters: [CheckedContinuation<Value?, Never>] = []
    private var closed = false

    func put(_ value: Value) {
        lock.lock()
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            lock.unlock()
            waiter.resume(returning: value)
            return
        }
        items.append(value)
        lock.unlock()
    }

    func close() {
        lock.lock()
        closed = true
        let waiting = waiters
        waiters = []
        lock.unlock()
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    func take() async -> Value? {
        await withCheckedContinuation { continuation in
            lock.lock()
            if !items.isEmpty {
                let value = items.removeFirst()
                lock.unlock()
                continuation.resume(returning: value)
            } else if closed {
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}

/// A scripted QMP server on one end of a `socketpair`, for client tests.
///
/// The script runs on its own `Thread` with blocking POSIX reads and writes (never on the Swift
/// concurrency pool). Every read and write times out (``ioTimeout``), so a script that waits for
/// something the client never sends ends with a recorded failure instead of hanging. The server's
/// end is closed when the script returns or throws. Failures (a thrown error, an unexpected
/// command, ``check(_:_:)``) are recorded and returned by ``finish()``.
///
/// The client's end is ``endpoint``; the client takes ownership of that descriptor when it connects.
final class FakeQMPServer: QMPServerScript, @unchecked Sendable {
    /// The client's end of the socket pair.
    let clientDescriptor: Int32
    /// The endpoint to hand to `QMPClient.connect(to:)` (the client then owns ``clientDescriptor``).
    var endpoint: QMPEndpoint {
        lock.lock()
        endpointTaken = true
        lock.unlock()
        return .connectedSocket(descriptor: clientDescriptor)
    }

    static let name = "fake server"

    /// Closes the client's end if no client ever took it (so a test that fails early leaks nothing).
    func releaseClientEnd() {
        lock.lock()
        let taken = endpointTaken
        endpointTaken = true
        lock.unlock()
        if !taken { Glibc.close(clientDescriptor) }
    }

    /// How long any one read or write (or wait for the test) may block, in seconds.
    let ioTimeout: Double

    /// The default ``ioTimeout``: a "no hang" bound, far above the milliseconds a script waits for the client. In the
    /// whole suite the client's tasks can wait seconds for the few cooperative threads (other tests compute on them,
    /// the command-line tests' children take CPU), so it is generous: 30 s, not the 5 s that failed there.
    static let defaultIOTimeout: Double = 30

    // Thread-confined to the server thread.
    private let descriptor: Int32
    private var descriptorOpen = true
    private let parser = JSONStreamParser()
    private var inbox: [JSON] = []
    private var rawInput: [UInt8] = []
    private var reachedEOF = false

    // Shared with the test.
    private let lock = NSLock()
    private var failureLog: [String] = []
    private var endpointTaken = false
    private var done = false
    private var doneWaiters: [CheckedContinuation<Void, Never>] = []
    private let signals = FakeMailbox<JSON>()
    private let go = DispatchSemaphore(value: 0)

    private static let ignoreSIGPIPE: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    /// Makes the socket pair and starts `script` on a new thread.
    init(ioTimeout: Double = FakeQMPServer.defaultIOTimeout, script: @escaping @Sendable (FakeQMPServer) throws -> Void) throws {
        _ = Self.ignoreSIGPIPE
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw FakeServerError("socketpair failed: \(String(cString: strerror(errno)))")
        }
        self.descriptor = fds[0]
        self.clientDescriptor = fds[1]
        self.ioTimeout = ioTimeout
        var timeout = timeval(tv_sec: Int(ioTimeout), tv_usec: suseconds_t((ioTimeout - ioTimeout.rounded(.down)) * 1_000_000))
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            guard setsockopt(descriptor, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                Glibc.close(fds[0])
                Glibc.close(fds[1])
                throw FakeServerError("setsockopt failed: \(String(cString: strerror(errno)))")
            }
        }
        let thread = Thread { [self] in
            do {
                try script(self)
            } catch {
                record("script failed: \(error)")
            }
            checkFraming()
            closeDescriptor()
            signals.close()
            lock.lock()
            done = true
            let waiters = doneWaiters
            doneWaiters = []
            lock.unlock()
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "FakeQMPServer"
        thread.start()
    }

    // MARK: Test side

    /// Waits for the script to end (its descriptor is then closed) and returns the recorded failures.
    func finish() async -> [String] {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if done {
                lock.unlock()
                continuation.resume()
            } else {
                doneWaiters.append(continuation)
                lock.unlock()
            }
        }
        return failures
    }

    /// The failures recorded so far.
    var failures: [String] {
        lock.lock()
        defer { lock.unlock() }
        return failureLog
    }

    /// The next value the script passed to ``signal(_:)``, or nil when the script ended without one.
    func nextSignal() async -> JSON? { await signals.take() }

    /// Lets a script blocked in ``waitForTest()`` go on.
    func proceed() { go.signal() }

    // MARK: Script side (server thread only)

    /// Records a failure (any thread).
    func record(_ failure: String) {
        lock.lock()
        failureLog.append(failure)
        lock.unlock()
    }

    /// Records `failure` unless `condition` holds.
    func check(_ condition: Bool, _ failure: @autoclosure () -> String) {
        if !condition { record(failure()) }
    }

    /// Passes a value to the test (see ``nextSignal()``).
    func signal(_ value: JSON = .null) { signals.put(value) }

    /// Blocks until the test calls ``proceed()``.
    func waitForTest() throws {
        guard go.wait(timeout: .now() + ioTimeout) == .success else {
            throw FakeServerError("the test did not call proceed() within \(ioTimeout) s")
        }
    }

    /// Sends raw text, optionally cut into chunks of `chunkSize` bytes with a pause between them.
    func send(_ text: String, chunkSize: Int? = nil, pause: Double = 0) throws {
        try send(bytes: Array(text.utf8), chunkSize: chunkSize, pause: pause)
    }

    /// Sends raw bytes, optionally cut into chunks of `chunkSize` bytes with a pause between them.
    func send(bytes: [UInt8], chunkSize: Int? = nil, pause: Double = 0) throws {
        let size = max(1, chunkSize ?? bytes.count)
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + size, bytes.count)
            try writeAll(bytes[offset..<end])
            offset = end
            if pause > 0, offset < bytes.count { usleep(useconds_t(pause * 1_000_000)) }
        }
    }

    /// Blocks until the client has read every byte sent so far: a Unix socket's sent bytes stay in its output queue
    /// (`SIOCOUTQ`) until the peer reads them. What is sent next therefore reaches the client in a read of its own.
    func waitUntilClientRead() throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(ioTimeout * 1000))
        while true {
            var queued: Int32 = 0
            guard ioctl(descriptor, UInt(TIOCOUTQ), &queued) == 0 else {
                throw FakeServerError("ioctl(SIOCOUTQ) failed: \(String(cString: strerror(errno)))")
            }
            if queued == 0 { return }
            guard ContinuousClock.now < deadline else {
                throw FakeServerError("the client did not read the \(queued) bytes sent within \(ioTimeout) s")
            }
            usleep(1000)
        }
    }

    /// Sends several pieces as separate writes (so tests control where reads may split).
    func send(pieces: [String], pause: Double = 0) throws {
        for (index, piece) in pieces.enumerated() {
            try send(piece)
            if pause > 0, index < pieces.count - 1 { usleep(useconds_t(pause * 1_000_000)) }
        }
    }

    /// Sends one message (compact JSON, CRLF-terminated).
    func send(message: JSON) throws {
        try send(message.serialized() + "\r\n")
    }

    /// Sends ``greeting``.
    func greet() throws { try send(Self.greeting) }

    /// Reads `qmp_capabilities` and answers it.
    @discardableResult
    func acceptNegotiation() throws -> JSON {
        let command = try expectCommand("qmp_capabilities")
        try reply(to: command)
        return command
    }

    /// ``greet()`` then ``acceptNegotiation()``.
    func greetAndNegotiate() throws {
        try greet()
        try acceptNegotiation()
    }

    /// The next command the client sent; when `name` is given, records a failure (and throws) if it differs.
    @discardableResult
    func expectCommand(_ name: String? = nil) throws -> JSON {
        while inbox.isEmpty {
            guard try readMore() else { throw FakeServerError("expected a command, got the end of the connection") }
        }
        let command = inbox.removeFirst()
        if let name, command["execute"]?.stringValue != name, command["exec-oob"]?.stringValue != name {
            throw FakeServerError("expected '\(name)', got \(command.serialized())")
        }
        check(command["id"] != nil, "command without an id: \(command.serialized())")
        return command
    }

    /// Whether the client sent anything (a command already read, or new bytes) within `seconds`;
    /// what arrived stays available to ``expectCommand(_:)``.
    func receivedAnything(within seconds: Double) throws -> Bool {
        if !inbox.isEmpty { return true }
        if reachedEOF { return false }
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&request, 1, Int32(seconds * 1000))
        guard ready > 0 else { return false }
        let before = rawInput.count
        _ = try readMore()
        return rawInput.count > before
    }

    /// Reads until the client closes the connection; returns the commands that arrived meanwhile.
    @discardableResult
    func expectEOF() throws -> [JSON] {
        while try readMore() {}
        defer { inbox = [] }
        return inbox
    }

    /// Answers `command` with `value` (its id echoed).
    func reply(to command: JSON, with value: JSON = [:]) throws {
        try send(message: replyMessage(to: command, with: value))
    }

    /// Answers `command` with an error.
    func replyError(to command: JSON, errorClass: String, description: String) throws {
        try send(message: errorMessage(to: command, errorClass: errorClass, description: description))
    }

    /// Sends an event.
    func event(_ name: String, data: JSON? = nil, seconds: Int64 = 1_700_000_000, microseconds: Int64 = 123_456) throws {
        try send(message: eventMessage(name, data: data, seconds: seconds, microseconds: microseconds))
    }

    /// Closes the server's end now (the client sees the end of the connection).
    func close() {
        closeDescriptor()
    }

    // MARK: I/O

    /// Reads once; false at the end of the connection.
    private func readMore() throws -> Bool {
        guard descriptorOpen else { throw FakeServerError("read after close()") }
        if reachedEOF { return false }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                let bytes = Array(buffer[..<count])
                rawInput += bytes
                do {
                    try parser.feed(bytes) { json, _ in inbox.append(json) }
                } catch {
                    throw FakeServerError("the client sent bad JSON: \(error)")
                }
                return true
            }
            if count == 0 {
                reachedEOF = true
                return false
            }
            switch errno {
            case EINTR: continue
            case ECONNRESET:
                reachedEOF = true
                return false
            case EAGAIN, EWOULDBLOCK:
                throw FakeServerError("read timed out after \(ioTimeout) s")
            default:
                throw FakeServerError("read failed: \(String(cString: strerror(errno)))")
            }
        }
    }

    private func writeAll(_ bytes: ArraySlice<UInt8>) throws {
        guard descriptorOpen else { throw FakeServerError("write after close()") }
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                continue
            }
            if written < 0, errno == EINTR { continue }
            if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                throw FakeServerError("write timed out after \(ioTimeout) s")
            }
            throw FakeServerError("write failed: \(String(cString: strerror(errno)))")
        }
    }

    private func closeDescriptor() {
        guard descriptorOpen else { return }
        descriptorOpen = false
        Glibc.close(descriptor)
    }

    /// Every command must be compact JSON terminated by CRLF.
    private func checkFraming() {
        Self.framingFailures(rawInput).forEach(record)
    }
}

extension QMPClient.Configuration {
    /// Defaults for tests against ``FakeQMPServer`` and ``InMemoryQMPServer``: bounded waits everywhere, generous ones
    /// (an in-memory script and the client's tasks share the cooperative pool, which the whole suite's tests can hold
    /// for tens of seconds on 2 cores).
    static func forTests(_ change: (inout QMPClient.Configuration) -> Void = { _ in }) -> QMPClient.Configuration {
        var configuration = QMPClient.Configuration()
        configuration.commandTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(30)
        configuration.logger.logLevel = .error
        change(&configuration)
        return configuration
    }
}

/// Runs `body` with a fresh client and a fake server running `script`; always closes the client,
/// waits for the server thread, and records the server's failures as issues (even when `body` throws).
func withFakeServer(
    configuration: QMPClient.Configuration = .forTests(),
    ioTimeout: Double = FakeQMPServer.defaultIOTimeout,
    sourceLocation: SourceLocation = #_sourceLocation,
    script: @escaping @Sendable (FakeQMPServer) throws -> Void,
    _ body: (QMPClient, FakeQMPServer) async throws -> Void
) async throws {
    try await FakeQMPServer(ioTimeout: ioTimeout, script: script).serve(configuration: configuration, sourceLocation: sourceLocation, body)
}
