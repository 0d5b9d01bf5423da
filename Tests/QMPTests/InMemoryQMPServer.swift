import Foundation
import Testing

@testable import QMP

/// A scripted QMP server held in memory, for client tests where the socket adds nothing: no socket, no blocking I/O.
///
/// ``transport`` is the client's side, a `QMPTransport` over two in-memory byte streams: what the script sends is
/// framed for the client by the same `JSONStreamParser` as `SocketTransport`'s (its limits, a message cut by the end
/// of the connection), and what the client sends is parsed for the script. The script is a task that drives the
/// server's side with `async` calls mirroring ``FakeQMPServer``'s, on ``ScriptExecutor``; every wait is bounded (``ioTimeout``), so a script
/// that waits for something the client never sends ends with a recorded failure instead of hanging. The server's side
/// is closed when the script returns or throws. Failures (a thrown error, an unexpected command, ``check(_:_:)``, a
/// command that is not compact CRLF-terminated JSON) are recorded and returned by ``finish()``.
final class InMemoryQMPServer: QMPServerScript, @unchecked Sendable {
    /// How long any one wait of the script (for the client, or for the test) may last.
    let ioTimeout: Duration

    /// The default ``ioTimeout``: a "no hang" bound above the client's own timeouts (`forTests`); the script runs on
    /// the cooperative pool, which the whole suite's tests can hold for tens of seconds.
    static let defaultIOTimeout: Duration = .seconds(90)

    private let lock = NSLock()
    // The server's bytes, framed for the client (the transport's inbound messages).
    private let clientParser: JSONStreamParser
    private var toClient: AsyncThrowingStream<QMPInboundMessage, any Error>.Continuation?
    private var receive: (@Sendable (QMPInboundMessage) -> Void)?
    private var unread: [[UInt8]] = []
    private var serverClosed = false
    private var clientEnded = false
    // The client's bytes, parsed for the script.
    private let serverParser = JSONStreamParser()
    private var inbox: [JSON] = []
    private var rawInput: [UInt8] = []
    private var clientClosed = false
    private var proceeds = 0
    // Waits of the script, each woken by new input, the client's end, ``proceed()`` or its deadline.
    private var waiters: [Int: (continuation: CheckedContinuation<Void, Never>, deadline: Task<Void, Never>)] = [:]
    private var nextWaiter = 0
    private var failureLog: [String] = []
    private let signals = FakeMailbox<JSON>()
    private var script: Task<Void, Never>?

    /// A server running `script` in a task of its own; the client's messages are limited as `SocketTransport` limits
    /// them (`maxMessageSize`, `maxDepth`).
    init(ioTimeout: Duration = InMemoryQMPServer.defaultIOTimeout, maxMessageSize: Int = 10 << 20, maxDepth: Int = 128,
         script: @escaping @Sendable (InMemoryQMPServer) async throws -> Void) {
        self.ioTimeout = ioTimeout
        clientParser = JSONStreamParser(maxMessageSize: maxMessageSize, maxDepth: maxDepth)
        self.script = Task(executorPreference: ScriptExecutor.shared) { [self] in
            do {
                try await script(self)
            } catch {
                record("script failed: \(error)")
            }
            Self.framingFailures(lock.withLock { rawInput }).forEach(record)
            close()
            signals.close()
        }
    }

    // MARK: The client's side

    /// The transport to hand to `QMPClient.connect(using:)`.
    var transport: Transport { Transport(server: self) }

    /// The client's side of the connection.
    struct Transport: QMPTransport {
        let server: InMemoryQMPServer

        func run(_ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
            try await run(direct: nil, body)
        }

        /// Hands each message to `receive` from the script's `send`, as `SocketTransport` does from its event loop:
        /// the client takes a reply without waiting for a thread of the cooperative pool.
        func run(receive: @escaping @Sendable (QMPInboundMessage) -> Void,
                 _ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
            try await run(direct: receive, body)
        }

        private func run(direct: (@Sendable (QMPInboundMessage) -> Void)?,
                         _ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: QMPInboundMessage.self)
            server.attach(continuation, receive: direct)
            let iterator = IteratorBox(stream.makeAsyncIterator())
            let outbound = QMPOutbound(send: { [server] in server.received($0) }, close: { [server] in server.clientHungUp() })
            defer { server.clientHungUp() }
            try await body(QMPInbound { { try await iterator.next() } }, outbound)
        }
    }

    /// The client connected: what the script sent before is delivered now.
    private func attach(_ continuation: AsyncThrowingStream<QMPInboundMessage, any Error>.Continuation,
                        receive: (@Sendable (QMPInboundMessage) -> Void)?) {
        deliver(lock.withLock {
            toClient = continuation
            self.receive = receive
            let messages = unread.flatMap { clientEnded ? [] : frameForClient($0) }
            unread = []
            if serverClosed { endForClient() }
            return messages
        })
    }

    /// Gives `messages` to the client (never with the lock held: the client may send from `receive`).
    private func deliver(_ messages: [QMPInboundMessage]) {
        guard !messages.isEmpty else { return }
        let (direct, stream) = lock.withLock { (receive, toClient) }
        if let direct {
            messages.forEach(direct)
        } else {
            messages.forEach { stream?.yield($0) }
        }
    }

    /// The client sent `bytes` (complete messages).
    private func received(_ bytes: [UInt8]) {
        lock.withLock {
            guard !clientClosed, !serverClosed else { return }
            rawInput += bytes
            do {
                try serverParser.feed(bytes) { json, _ in inbox.append(json) }
            } catch {
                failureLog.append("the client sent bad JSON: \(error)")
            }
        }
        wake()
    }

    /// The client closed the connection: its inbound ends, the script sees the end of the connection.
    private func clientHungUp() {
        lock.withLock {
            clientClosed = true
            endForClient()
        }
        wake()
    }

    /// Frames `bytes` into the messages for the client (lock held; ``deliver(_:)`` gives them); bad JSON ends the
    /// connection as the socket's framing does: the client's inbound fails with `protocolError`, and it closes.
    private func frameForClient(_ bytes: [UInt8]) -> [QMPInboundMessage] {
        guard let toClient else {
            unread.append(bytes)
            return []
        }
        var messages: [QMPInboundMessage] = []
        do {
            try clientParser.feed(bytes) { json, text in messages.append(QMPInboundMessage(json: json, text: Array(text))) }
        } catch {
            clientEnded = true
            clientClosed = true
            toClient.finish(throwing: QMPError.protocolError("\(error)"))
        }
        return messages
    }

    /// Ends the client's inbound (lock held): cleanly, or with the connection ended in the middle of a message.
    private func endForClient() {
        guard let toClient, !clientEnded else { return }
        clientEnded = true
        toClient.finish(throwing: clientParser.hasPartialMessage
            ? QMPConnectionEnded(reason: "the connection ended in the middle of a message") : nil)
    }

    // MARK: The test's side

    static let name = "in-memory server"

    /// Nothing to release: the transport holds no descriptor.
    func releaseClientEnd() {}

    /// Waits for the script to end (the server's side is then closed) and returns the recorded failures.
    func finish() async -> [String] {
        await script?.value
        return failures
    }

    /// The failures recorded so far.
    var failures: [String] { lock.withLock { failureLog } }

    /// The next value the script passed to ``signal(_:)``, or nil when the script ended without one.
    func nextSignal() async -> JSON? { await signals.take() }

    /// Lets a script waiting in ``waitForTest()`` go on.
    func proceed() {
        lock.withLock { proceeds += 1 }
        wake()
    }

    // MARK: The script's side

    /// Records a failure.
    func record(_ failure: String) { lock.withLock { failureLog.append(failure) } }

    /// Records `failure` unless `condition` holds.
    func check(_ condition: Bool, _ failure: @autoclosure () -> String) {
        if !condition { record(failure()) }
    }

    /// Passes a value to the test (see ``nextSignal()``).
    func signal(_ value: JSON = .null) { signals.put(value) }

    /// Waits until the test calls ``proceed()``.
    func waitForTest() async throws {
        guard await wait(within: ioTimeout, until: { proceeds > 0 }) else {
            throw FakeServerError("the test did not call proceed() within \(ioTimeout)")
        }
        lock.withLock { proceeds -= 1 }
    }

    /// Sends raw text, optionally cut into chunks of `chunkSize` bytes with a pause (seconds) between them.
    func send(_ text: String, chunkSize: Int? = nil, pause: Double = 0) async throws {
        let bytes = Array(text.utf8)
        let size = max(1, chunkSize ?? bytes.count)
        for start in stride(from: 0, to: bytes.count, by: size) {
            let messages = lock.withLock { () -> [QMPInboundMessage]? in
                guard !serverClosed, !clientClosed else { return nil }
                return frameForClient(Array(bytes[start..<min(start + size, bytes.count)]))
            }
            guard let messages else { throw FakeServerError("write after the end of the connection") }
            deliver(messages)
            if pause > 0, start + size < bytes.count { try await Task.sleep(for: .seconds(pause)) }
        }
    }

    /// Sends one message (compact JSON, CRLF-terminated).
    func send(message: JSON) async throws { try await send(message.serialized() + "\r\n") }

    /// Sends ``greeting``.
    func greet() async throws { try await send(Self.greeting) }

    /// Reads `qmp_capabilities` and answers it.
    @discardableResult
    func acceptNegotiation() async throws -> JSON {
        let command = try await expectCommand("qmp_capabilities")
        try await reply(to: command)
        return command
    }

    /// ``greet()`` then ``acceptNegotiation()``.
    func greetAndNegotiate() async throws {
        try await greet()
        try await acceptNegotiation()
    }

    /// The next command the client sent; when `name` is given, fails (throws) if it differs.
    @discardableResult
    func expectCommand(_ name: String? = nil) async throws -> JSON {
        guard await wait(within: ioTimeout, until: { !inbox.isEmpty || clientClosed }) else {
            throw FakeServerError("no command within \(ioTimeout)")
        }
        guard let command = lock.withLock({ () -> JSON? in inbox.isEmpty ? Optional.none : inbox.removeFirst() }) else {
            throw FakeServerError("expected a command, got the end of the connection")
        }
        if let name, command["execute"]?.stringValue != name, command["exec-oob"]?.stringValue != name {
            throw FakeServerError("expected '\(name)', got \(command.serialized())")
        }
        check(command["id"] != nil, "command without an id: \(command.serialized())")
        return command
    }

    /// The next `count` commands, each named `name`.
    func expectCommands(_ name: String, count: Int) async throws -> [JSON] {
        var commands: [JSON] = []
        for _ in 0..<count { commands.append(try await expectCommand(name)) }
        return commands
    }

    /// Whether the client sent a command within `seconds` (it stays available to ``expectCommand(_:)``); throws
    /// nothing, as ``FakeQMPServer``'s, which reads a socket, may.
    func receivedAnything(within seconds: Double) async throws -> Bool {
        await wait(within: .seconds(seconds), until: { !inbox.isEmpty || clientClosed })
        return lock.withLock { !inbox.isEmpty }
    }

    /// Waits until the client closes the connection; returns the commands that arrived meanwhile.
    @discardableResult
    func expectEOF() async throws -> [JSON] {
        guard await wait(within: ioTimeout, until: { clientClosed }) else {
            throw FakeServerError("the client did not close the connection within \(ioTimeout)")
        }
        return lock.withLock {
            defer { inbox = [] }
            return inbox
        }
    }

    /// Answers `command` with `value` (its id echoed).
    func reply(to command: JSON, with value: JSON = [:]) async throws {
        try await send(message: replyMessage(to: command, with: value))
    }

    /// Answers `command` with an error.
    func replyError(to command: JSON, errorClass: String, description: String) async throws {
        try await send(message: errorMessage(to: command, errorClass: errorClass, description: description))
    }

    /// Sends an event.
    func event(_ name: String, data: JSON? = nil, seconds: Int64 = 1_700_000_000, microseconds: Int64 = 123_456) async throws {
        try await send(message: eventMessage(name, data: data, seconds: seconds, microseconds: microseconds))
    }

    /// Closes the server's side now (the client sees the end of the connection).
    func close() {
        lock.withLock {
            serverClosed = true
            endForClient()
        }
    }

    // MARK: Waiting

    /// Waits until `ready` (evaluated with the lock held) or `limit` passes; returns whether it became ready.
    @discardableResult
    private func wait(within limit: Duration, until ready: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !lock.withLock(ready) {
            let remaining = deadline - .now
            guard remaining > .zero else { return false }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if ready() {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                let id = nextWaiter
                nextWaiter += 1
                waiters[id] = (continuation, Task(executorPreference: ScriptExecutor.shared) { [self] in
                    try? await Task.sleep(for: remaining)
                    wake(id)
                })
                lock.unlock()
            }
        }
        return true
    }

    /// Resumes the wait `id`, or every wait.
    private func wake(_ id: Int? = nil) {
        let woken = lock.withLock { () -> [(continuation: CheckedContinuation<Void, Never>, deadline: Task<Void, Never>)] in
            guard let id else {
                defer { waiters = [:] }
                return Array(waiters.values)
            }
            return waiters.removeValue(forKey: id).map { [$0] } ?? []
        }
        for waiter in woken {
            if id == nil { waiter.deadline.cancel() }
            waiter.continuation.resume()
        }
    }
}

/// The executor of the in-memory servers' scripts: one thread, off the cooperative pool, which the whole suite's tests
/// can hold for tens of seconds on 2 cores (a script starved there missed the client's 60 s timeout). It runs the
/// scripts' jobs in turn and never blocks on I/O; the client and the test stay on the pool.
final class ScriptExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = ScriptExecutor()
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init() {
        let thread = Thread { [self] in
            while true {
                condition.lock()
                while jobs.isEmpty { condition.wait() }
                let job = jobs.removeFirst()
                condition.unlock()
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        }
        thread.name = "InMemoryQMPServer scripts"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }
}

/// Runs `body` with a fresh client and an in-memory server running `script`; always closes the client, waits for the
/// script, and records the server's failures as issues (even when `body` throws).
func withInMemoryServer(
    configuration: QMPClient.Configuration = .forTests(),
    ioTimeout: Duration = InMemoryQMPServer.defaultIOTimeout,
    sourceLocation: SourceLocation = #_sourceLocation,
    script: @escaping @Sendable (InMemoryQMPServer) async throws -> Void,
    _ body: (QMPClient, InMemoryQMPServer) async throws -> Void
) async throws {
    try await InMemoryQMPServer(ioTimeout: ioTimeout, maxMessageSize: configuration.maxMessageSize, maxDepth: configuration.maxDepth,
                                script: script).serve(configuration: configuration, sourceLocation: sourceLocation, body)
}
