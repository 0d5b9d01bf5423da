import Logging
import NIOConcurrencyHelpers

/// A QMP client: connects, negotiates, sends commands (each with its own id, matched by id),
/// and delivers events. Safe to share between tasks; concurrent callers pipeline up to
/// ``Configuration/maxInFlight`` in-band commands, the rest queue.
///
/// ```swift
/// let client = QMPClient()
/// try await client.connect(to: .unix(path: "/run/qemu.qmp"))
/// let version = try await client.execute("query-version")
/// await client.close()
/// ```
public final class QMPClient: Sendable {
    /// The client's limits and defaults.
    public struct Configuration: Sendable {
        /// The largest accepted message from the server, in bytes (default 10 MiB).
        public var maxMessageSize: Int = 10 << 20
        /// The deepest accepted nesting of a message (default 128).
        public var maxDepth: Int = 128
        /// Enable out-of-band execution when the server offers it.
        public var enableOOB: Bool = true
        /// In-band commands in flight at once (QEMU queues at most 8 per monitor).
        public var maxInFlight: Int = 8
        /// The default per-call timeout; nil waits forever.
        public var commandTimeout: Duration? = .seconds(60)
        /// The time allowed for connecting, the greeting and `qmp_capabilities` together.
        public var connectTimeout: Duration = .seconds(10)
        /// Events buffered per subscriber; when full, the oldest event is dropped (and counted).
        public var eventBufferSize: Int = 1024
        /// Where the client logs; the wire traffic goes out at trace level.
        public var logger: Logger = Logger(label: "qmp")
        /// Where the traffic is recorded, if anywhere.
        public var recorder: (any QMPTrafficObserver)? = nil

        /// The defaults.
        public init() {}
    }

    typealias Machine = QMPStateMachine<CheckedContinuation<JSON, any Error>>

    struct State: Sendable {
        var machine: Machine
        var outbound: QMPOutbound?
        var subscribers: [Int: AsyncStream<QMPEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var connection: Task<Void, Never>?
        var droppedEvents = 0
        /// Deadlines of the requests that have a timeout, by id (one sweeper task per connection checks them).
        var deadlines: [Int64: (deadline: ContinuousClock.Instant, command: String, seconds: Double)] = [:]
        var sweeper: Task<Void, Never>?
        /// Messages to send before the transport handed over its outbound side (a greeting delivered from the
        /// event loop can be answered before `run`'s body starts).
        var unsent: [[UInt8]] = []
    }

    /// The configuration the client was made with.
    public let configuration: Configuration
    private let state: NIOLockedValueBox<State>
    private var logger: Logger { configuration.logger }

    /// A client with the given configuration; it connects with ``connect(to:)`` or ``connect(using:)``.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.state = NIOLockedValueBox(State(machine: Machine(maxInFlight: configuration.maxInFlight)))
    }

    /// The current run state.
    public var runState: QMPStateMachine<Never>.RunState {
        switch state.withLockedValue({ $0.machine.runState }) {
        case .idle: return .idle
        case .connecting: return .connecting
        case .running: return .running
        case .disconnecting: return .disconnecting
        }
    }

    /// The server's greeting, once connected.
    public var greeting: QMPGreeting? { state.withLockedValue { $0.machine.greeting } }

    /// Events dropped so far because a subscriber's buffer was full.
    public var droppedEventCount: Int { state.withLockedValue { $0.droppedEvents } }

    // MARK: Connecting

    /// Connects to a monitor socket, reads the greeting and negotiates.
    /// - Throws: ``QMPError/connectFailed(_:)``, ``QMPError/negotiationFailed(_:)``, ``QMPError/invalidState(_:)``.
    public func connect(to endpoint: QMPEndpoint) async throws {
        try await connect(using: SocketTransport(endpoint, maxMessageSize: configuration.maxMessageSize,
                                                 maxDepth: configuration.maxDepth,
                                                 connectTimeout: configuration.connectTimeout))
    }

    /// Connects over any transport (a socket, a replayed recording), reads the greeting and negotiates
    /// (`qmp_capabilities`, with `oob` when offered and ``Configuration/enableOOB`` is set).
    public func connect(using transport: some QMPTransport) async throws {
        let limit = configuration.connectTimeout
        let watchdog = Task { [weak self] in
            try await Task.sleep(for: limit)
            guard let self else { return }
            // Say which step hung: a SIGSTOPped QEMU accepts the connection but never greets.
            let seconds = limit.inSeconds
            let connected = state.withLockedValue { $0.outbound != nil }
            update { machine in
                guard machine.runState == .connecting else { return .init() }  // negotiated just in time
                let what = !connected ? "could not connect within \(seconds) s"
                    : machine.greeting == nil
                        ? "no greeting within \(seconds) s: the monitor accepted the connection but does not answer (is QEMU stopped or hung?)"
                        : "no reply to qmp_capabilities within \(seconds) s"
                return machine.streamFailed(.negotiationFailed(what))
            }
        }
        defer { watchdog.cancel() }
        _ = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSON, any Error>) in
            let started: Bool = state.withLockedValue { state in
                do {
                    try state.machine.connected(greetingToken: continuation)
                } catch {
                    continuation.resume(throwing: error)
                    return false
                }
                let previous = state.connection
                state.connection = Task { [self] in
                    await previous?.value
                    await self.runConnection(transport)
                }
                return true
            }
            _ = started
        }
        guard let greeting else { throw QMPError.negotiationFailed("no greeting") }
        logger.debug("QMP greeting", metadata: ["qemu": "\(greeting.version)", "capabilities": "\(greeting.capabilities)"])
        let oob = configuration.enableOOB && greeting.capabilities.contains("oob")
        do {
            _ = try await execute(QMPCommand("qmp_capabilities", arguments: oob ? ["enable": ["oob"]] : nil),
                                  timeout: configuration.connectTimeout)
        } catch {
            await close()
            switch error as? QMPError {
            case .commandFailed(let failure)?:
                throw QMPError.negotiationFailed("\(failure.errorClass): \(failure.errorDescription)")
            case .timedOut?, .interrupted?:
                // The watchdog and the command's own deadline race; either way negotiation did not finish in time.
                throw QMPError.negotiationFailed("no reply to qmp_capabilities within \(configuration.connectTimeout)")
            default:
                throw error
            }
        }
        update { machine in
            machine.negotiated()
            return .init()
        }
        // The watchdog may have ended the session between qmp_capabilities' reply and this point (a starved process
        // past connectTimeout): then the connection is gone, and connect must not report success.
        guard runState == .running else {
            throw QMPError.negotiationFailed("the session ended during negotiation (connect timeout \(limit.inSeconds) s)")
        }
    }

    private func runConnection(_ transport: some QMPTransport) async {
        do {
            try await transport.run(receive: { [self] message in
                configuration.recorder?.received(message.text)
                if logger.logLevel <= .trace {
                    logger.trace("<- \(String(decoding: message.text, as: UTF8.self))")
                }
                if let failure = message.failure, let id = message.json["id"]?.int64Value {
                    update { $0.abandon(id: id, error: failure) }
                } else {
                    update { $0.received(message.json) }
                }
            }) { [self] inbound, outbound in
                state.withLockedValue { state in
                    state.outbound = outbound
                    for bytes in state.unsent {
                        configuration.recorder?.sent(bytes)
                        outbound.send(bytes)
                    }
                    state.unsent = []
                    if state.machine.runState == .disconnecting || state.machine.runState == .idle { outbound.close() }
                }
                do {
                    for try await _ in inbound {}
                    update { $0.connectionEnded(reason: "the server closed the connection") }
                } catch let error as QMPConnectionEnded {
                    update { $0.connectionEnded(reason: error.reason) }
                } catch let error as QMPError {
                    update { $0.streamFailed(error) }
                    update { $0.connectionEnded(reason: error.description) }
                }
            }
        } catch {
            let failure = error as? QMPError ?? .connectFailed("\(error)")
            update { $0.streamFailed(failure) }
            update { $0.connectionEnded(reason: failure.description) }
        }
        state.withLockedValue { state in
            state.outbound = nil
            state.unsent = []
        }
    }

    // MARK: Commands

    /// Runs a command and returns its `return` value.
    /// - Parameters:
    ///   - command: the command, its arguments, and whether it goes out-of-band.
    ///   - timeout: how long to wait for the reply (the configuration's default when omitted; nil waits forever).
    /// - Throws: ``QMPError/commandFailed(_:)`` when QEMU refuses it, ``QMPError/interrupted(command:reason:)``,
    ///   ``QMPError/timedOut(command:seconds:)``, ``QMPError/invalidState(_:)``, `CancellationError`.
    public func execute(_ command: QMPCommand, timeout: Duration?? = .none) async throws -> JSON {
        let limit: Duration? = timeout ?? configuration.commandTimeout
        let id = state.withLockedValue { state in
            let id = state.machine.reserveID()
            if let limit {
                let seconds = limit.inSeconds
                state.deadlines[id] = (ContinuousClock.now + limit, command.name, seconds)
                if state.sweeper == nil { state.sweeper = startSweeper() }
            }
            return id
        }
        defer { if limit != nil { _ = state.withLockedValue { $0.deadlines.removeValue(forKey: id) } } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                update { $0.submit(command, id: id, token: continuation) }
            }
        } onCancel: {
            update { $0.abandon(id: id, error: CancellationError()) }
        }
    }

    /// Runs the command `name` with optional arguments; see ``execute(_:timeout:)``.
    public func execute(_ name: String, arguments: JSONObject? = nil, timeout: Duration?? = .none) async throws -> JSON {
        try await execute(QMPCommand(name, arguments: arguments), timeout: timeout)
    }

    /// Runs a command with `Encodable` arguments and decodes its return value as `R`.
    public func execute<Arguments: Encodable, R: Decodable>(
        _ name: String, arguments: Arguments, returning: R.Type, timeout: Duration?? = .none
    ) async throws -> R {
        guard case .object(let object) = try JSONValueEncoder().encode(arguments) else {
            throw QMPError.invalidState("the arguments of '\(name)' must encode to a JSON object")
        }
        let value = try await execute(QMPCommand(name, arguments: object), timeout: timeout)
        return try JSONValueDecoder().decode(R.self, from: value)
    }

    /// Runs a command without arguments and decodes its return value as `R`.
    public func execute<R: Decodable>(_ name: String, returning: R.Type, timeout: Duration?? = .none) async throws -> R {
        let value = try await execute(QMPCommand(name), timeout: timeout)
        return try JSONValueDecoder().decode(R.self, from: value)
    }

    /// One task per client fails the requests whose deadline passed (instead of a timer per call, which costs
    /// a thread wake-up per command). It checks every tenth of the shortest timeout (10 ms to 100 ms) while
    /// requests with deadlines exist, and ends when none is left.
    private func startSweeper() -> Task<Void, Never> {
        Task { [weak self] in
            while let self {
                let interval: Duration = state.withLockedValue { state in
                    let shortest = state.deadlines.values.map(\.seconds).min() ?? 1
                    return .milliseconds(Int64(min(100, max(10, shortest * 100))))
                }
                try? await Task.sleep(for: interval)
                let now = ContinuousClock.now
                let expired: [(Int64, String, Double)]? = state.withLockedValue { state in
                    if state.deadlines.isEmpty {
                        state.sweeper = nil
                        return nil
                    }
                    let expired = state.deadlines.filter { $0.value.deadline <= now }
                    for id in expired.keys { state.deadlines[id] = nil }
                    return expired.map { ($0.key, $0.value.command, $0.value.seconds) }
                }
                guard let expired else { return }
                for (id, command, seconds) in expired {
                    update { $0.abandon(id: id, error: QMPError.timedOut(command: command, seconds: seconds)) }
                }
            }
        }
    }

    // MARK: Events

    /// A new subscription to the server's events.
    ///
    /// Each subscriber has its own buffer of `bufferSize` events (the configuration's ``Configuration/eventBufferSize``
    /// by default). Overflow policy: when the buffer is full, the oldest buffered event is dropped, never the
    /// connection's progress; drops are counted in ``droppedEventCount`` and logged. The sequence ends when the
    /// connection ends (a subscription made while idle ends with the next connection).
    public func events(bufferSize: Int? = nil) -> AsyncStream<QMPEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: QMPEvent.self, bufferingPolicy: .bufferingNewest(max(1, bufferSize ?? configuration.eventBufferSize)))
        let key = state.withLockedValue { state in
            defer { state.nextSubscriber += 1 }
            state.subscribers[state.nextSubscriber] = continuation
            return state.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.subscribers.removeValue(forKey: key) }
        }
        return stream
    }

    // MARK: Closing

    /// Closes the connection: pending commands fail as interrupted, event sequences end.
    /// Idempotent; returns when the connection is fully closed.
    public func close() async {
        update { $0.closing() }
        let connection = state.withLockedValue { $0.connection }
        await connection?.value
    }

    // MARK: Effects

    /// Applies an input to the state machine under the lock (sending in order), then completes requests
    /// and delivers events outside it.
    private func update(_ input: (inout Machine) -> Machine.Effects) {
        let (effects, subscribers, outbound) = state.withLockedValue { state in
            let effects = input(&state.machine)
            if let outbound = state.outbound {
                for bytes in effects.sends {
                    configuration.recorder?.sent(bytes)
                    outbound.send(bytes)
                }
            } else if state.machine.runState != .idle {
                state.unsent += effects.sends
            }
            let subscribers = effects.events.isEmpty && !effects.ended ? [] : Array(state.subscribers.values)
            if effects.ended { state.subscribers = [:] }
            return (effects, subscribers, effects.closeConnection ? state.outbound : nil)
        }
        if logger.logLevel <= .trace {
            for bytes in effects.sends { logger.trace("-> \(String(decoding: bytes.dropLast(2), as: UTF8.self))") }
        }
        for notice in effects.notices { logger.warning("\(notice)") }
        outbound?.close()
        for (continuation, result) in effects.completions { continuation.resume(with: result) }
        if !effects.events.isEmpty {
            var dropped = 0
            for event in effects.events {
                for subscriber in subscribers {
                    if case .dropped = subscriber.yield(event) { dropped += 1 }
                }
            }
            if dropped > 0 {
                let total = state.withLockedValue { state in
                    state.droppedEvents += dropped
                    return state.droppedEvents
                }
                if total == dropped { logger.warning("event buffer full: dropping the oldest events") }
            }
        }
        if effects.ended {
            for subscriber in subscribers { subscriber.finish() }
        }
    }
}
