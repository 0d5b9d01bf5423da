/// The QMP client's protocol state as a plain value: run state, ids, the one pending-request table,
/// the in-band window and its queue. No I/O: each input returns ``Effects`` for the caller to carry out.
///
/// `Token` is whatever the caller needs to complete a request (a continuation in ``QMPClient``,
/// a plain integer in tests).
public struct QMPStateMachine<Token> {
    /// The client's run state, as QEMU's Python client names it.
    public enum RunState: String, Sendable {
        /// Not connected (never connected, or the connection ended).
        case idle
        /// Connected, waiting for the greeting or for `qmp_capabilities`.
        case connecting
        /// Negotiated: commands may be sent.
        case running
        /// Closing: pending commands are being failed, the transport is closing.
        case disconnecting
    }

    enum Phase {
        case idle
        case awaitingGreeting(Token)
        case negotiating(QMPGreeting)
        case running(QMPGreeting)
        case disconnecting
    }

    struct Request {
        var id: Int64
        var command: QMPCommand
        var token: Token
    }

    /// What the caller must do after an input.
    public struct Effects {
        /// Messages to write, in order (CRLF-terminated wire bytes).
        public var sends: [[UInt8]] = []
        /// Requests to complete.
        public var completions: [(Token, Result<JSON, any Error>)] = []
        /// Events to deliver to subscribers.
        public var events: [QMPEvent] = []
        /// Lines worth logging (dropped replies and the like).
        public var notices: [String] = []
        /// Whether the connection must be closed (a protocol error).
        public var closeConnection = false
        /// Whether the connection ended: event subscribers must be finished.
        public var ended = false
    }

    /// The most in-band commands QEMU queues per monitor (`QMP_REQ_QUEUE_LEN_MAX`).
    public static var qemuQueueLimit: Int { 8 }

    private(set) var phase: Phase = .idle
    /// The one pending-request table: sent commands awaiting their reply, by id.
    private(set) var pending: [Int64: Request] = [:]
    /// In-band commands waiting for a free slot, in submission order.
    private var queue: [Request] = []
    private var queueHead = 0
    /// In-band commands sent and not yet answered.
    package private(set) var inFlight = 0
    private var nextID: Int64 = 1
    /// Ids reserved and not yet submitted.
    private var reserved: Set<Int64> = []
    /// Reserved ids abandoned before their submission arrived.
    private var cancelledEarly: [Int64: any Error] = [:]
    /// The most in-band commands in flight at once.
    public let maxInFlight: Int

    /// A state machine allowing `maxInFlight` in-band commands in flight.
    public init(maxInFlight: Int = QMPStateMachine.qemuQueueLimit) {
        self.maxInFlight = max(1, maxInFlight)
    }

    /// The current run state.
    public var runState: RunState {
        switch phase {
        case .idle: return .idle
        case .awaitingGreeting, .negotiating: return .connecting
        case .running: return .running
        case .disconnecting: return .disconnecting
        }
    }

    /// The greeting, once received.
    public var greeting: QMPGreeting? {
        switch phase {
        case .negotiating(let greeting), .running(let greeting): return greeting
        default: return nil
        }
    }

    /// The number of commands sent or queued and not yet completed.
    public var outstanding: Int { pending.count + queue.count - queueHead }

    // MARK: Inputs

    /// The transport is connected; `token` completes with the greeting's `QMP` value.
    public mutating func connected(greetingToken: Token) throws {
        guard case .idle = phase else { throw QMPError.invalidState("connect while \(runState.rawValue)") }
        phase = .awaitingGreeting(greetingToken)
    }

    /// Reserves the id for the next command (so a cancellation can refer to it before submission).
    public mutating func reserveID() -> Int64 {
        defer { nextID += 1 }
        reserved.insert(nextID)
        return nextID
    }

    /// Submits a command under a reserved id.
    /// `qmp_capabilities` is accepted while negotiating; every other command only while running.
    public mutating func submit(_ command: QMPCommand, id: Int64, token: Token) -> Effects {
        var effects = Effects()
        reserved.remove(id)
        if let error = cancelledEarly.removeValue(forKey: id) {
            effects.completions.append((token, .failure(error)))
            return effects
        }
        switch phase {
        case .running:
            break
        case .negotiating where command.name == "qmp_capabilities":
            break
        default:
            let state = runState.rawValue
            effects.completions.append((token, .failure(QMPError.invalidState("cannot send '\(command.name)' while \(state)"))))
            return effects
        }
        let request = Request(id: id, command: command, token: token)
        if command.outOfBand {
            pending[id] = request
            effects.sends.append(command.encoded(id: .int(id)))
        } else if inFlight < maxInFlight {
            pending[id] = request
            inFlight += 1
            effects.sends.append(command.encoded(id: .int(id)))
        } else {
            queue.append(request)
        }
        return effects
    }

    /// `qmp_capabilities` succeeded: commands may flow.
    public mutating func negotiated() {
        if case .negotiating(let greeting) = phase { phase = .running(greeting) }
    }

    /// Abandons the request `id` (cancelled or timed out): its slot is freed and a late reply will be dropped.
    public mutating func abandon(id: Int64, error: any Error) -> Effects {
        var effects = Effects()
        if let request = pending.removeValue(forKey: id) {
            effects.completions.append((request.token, .failure(error)))
            if !request.command.outOfBand {
                inFlight -= 1
                sendQueued(into: &effects)
            }
        } else if let position = queue[queueHead...].firstIndex(where: { $0.id == id }) {
            let request = queue.remove(at: position)
            effects.completions.append((request.token, .failure(error)))
        } else if reserved.contains(id) {
            // Not yet submitted (the cancellation raced the submission): remember it for `submit`.
            cancelledEarly[id] = error
        }
        return effects
    }

    /// A message arrived from the server.
    public mutating func received(_ json: JSON) -> Effects {
        var effects = Effects()
        let message: QMPServerMessage
        do {
            message = try QMPServerMessage(json)
        } catch let error as QMPError {
            fail(error, into: &effects)
            return effects
        } catch {
            fail(.protocolError("\(error)"), into: &effects)
            return effects
        }
        switch message {
        case .event(let event):
            effects.events.append(event)
        case .greeting(let greeting):
            guard case .awaitingGreeting(let token) = phase else {
                fail(.protocolError("unexpected second greeting"), into: &effects)
                return effects
            }
            phase = .negotiating(greeting)
            effects.completions.append((token, .success(greeting.json)))
        case .success(let id, let value):
            complete(id: id, result: { _ in .success(value) }, json: json, into: &effects)
        case .failure(let id, let errorClass, let description):
            guard id != nil else {
                fail(.protocolError("error reply without id: \(errorClass): \(description)"), into: &effects)
                return effects
            }
            complete(id: id, result: { command in
                .failure(QMPError.commandFailed(QMPCommandError(command: command, errorClass: errorClass, errorDescription: description)))
            }, json: json, into: &effects)
        }
        return effects
    }

    /// The transport failed to parse the stream or hit a limit: the session ends with `error`.
    public mutating func streamFailed(_ error: QMPError) -> Effects {
        var effects = Effects()
        guard runState != .idle else { return effects }  // the connection already ended
        fail(error, into: &effects)
        return effects
    }

    /// The client is closing the connection: pending requests fail as interrupted.
    public mutating func closing() -> Effects {
        var effects = Effects()
        guard runState != .idle else { return effects }
        if case .awaitingGreeting(let token) = phase {
            effects.completions.append((token, .failure(QMPError.negotiationFailed("the client closed the connection before the greeting"))))
        }
        finishAll(reason: "the client closed the connection", quitSucceeds: false, into: &effects)
        phase = .disconnecting
        effects.closeConnection = true
        return effects
    }

    /// The connection ended (EOF or transport error): everything pending fails as interrupted,
    /// except `quit`, whose reply races the end of the connection and counts as success.
    public mutating func connectionEnded(reason: String) -> Effects {
        var effects = Effects()
        if case .awaitingGreeting(let token) = phase {
            effects.completions.append((token, .failure(QMPError.negotiationFailed("the connection ended before the greeting: \(reason)"))))
        }
        finishAll(reason: reason, quitSucceeds: true, into: &effects)
        phase = .idle
        effects.ended = true
        return effects
    }

    // MARK: Helpers

    private mutating func complete(id: JSON?, result: (String) -> Result<JSON, any Error>, json: JSON,
                                   into effects: inout Effects) {
        guard let id, case .int(let key) = id, let request = pending.removeValue(forKey: key) else {
            effects.notices.append("dropped a reply with an unknown id: \(json.serialized().prefix(200))")
            return
        }
        effects.completions.append((request.token, result(request.command.name)))
        if !request.command.outOfBand {
            inFlight -= 1
            sendQueued(into: &effects)
        }
    }

    private mutating func sendQueued(into effects: inout Effects) {
        while inFlight < maxInFlight, queueHead < queue.count {
            let request = queue[queueHead]
            queueHead += 1
            pending[request.id] = request
            inFlight += 1
            effects.sends.append(request.command.encoded(id: .int(request.id)))
        }
        if queueHead > 64, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    private mutating func fail(_ error: QMPError, into effects: inout Effects) {
        if case .awaitingGreeting(let token) = phase {
            effects.completions.append((token, .failure(error)))
        }
        for request in pending.values.sorted(by: { $0.id < $1.id }) + queue[queueHead...] {
            effects.completions.append((request.token, .failure(error)))
        }
        clearRequests()
        phase = .disconnecting
        effects.closeConnection = true
    }

    private mutating func finishAll(reason: String, quitSucceeds: Bool, into effects: inout Effects) {
        for request in pending.values.sorted(by: { $0.id < $1.id }) + queue[queueHead...] {
            if quitSucceeds, request.command.name == "quit", pending[request.id] != nil {
                effects.completions.append((request.token, .success(.object([:]))))
            } else {
                effects.completions.append((request.token, .failure(QMPError.interrupted(command: request.command.name, reason: reason))))
            }
        }
        clearRequests()
    }

    private mutating func clearRequests() {
        pending = [:]
        queue = []
        queueHead = 0
        inFlight = 0
    }
}

extension QMPStateMachine: Sendable where Token: Sendable {}
extension QMPStateMachine.Phase: Sendable where Token: Sendable {}
extension QMPStateMachine.Request: Sendable where Token: Sendable {}
