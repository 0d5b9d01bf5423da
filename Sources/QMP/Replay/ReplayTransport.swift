import NIOConcurrencyHelpers

/// A transport that answers from a recorded session instead of a QEMU; ``QMPClient`` runs over it unchanged.
///
/// - ``Mode/strict``: commands must come in the recorded order with the recorded arguments; a mismatch
///   fails that command with ``QMPError/notRecorded(command:detail:)`` naming the file, the line and both commands.
/// - ``Mode/matching``: each command gets the reply recorded for an equal `execute` and `arguments` (ids ignored);
///   repeated commands get the recorded replies in turn, then the last one again.
///
/// In both modes `qmp_capabilities` matches by name alone: the capabilities a client enables are its own choice.
///
/// Recorded events are delivered in order, each after the reply it followed. A command the recording does not
/// have fails with ``QMPError/notRecorded(command:detail:)``, never with a QEMU error.
public struct ReplayTransport: QMPTransport {
    /// How commands are matched to recorded replies.
    public enum Mode: String, Sendable, CaseIterable {
        /// In the recorded order.
        case strict
        /// By command name and arguments.
        case matching
    }

    /// The session replayed.
    public let session: ReplaySession
    /// The matching mode.
    public let mode: Mode

    /// A transport replaying `session`.
    public init(session: ReplaySession, mode: Mode = .matching) {
        self.session = session
        self.mode = mode
    }

    public func run(_ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: QMPInboundMessage.self)
        @Sendable func deliver(_ json: JSON) {
            continuation.yield(QMPInboundMessage(json: json, text: json.serializedBytes()))
        }
        deliver(["QMP": session.greeting])
        session.initialEvents.forEach(deliver)
        @Sendable func deliver(_ answer: ReplayEngine.Answer) {
            switch answer {
            case .message(let json): deliver(json)
            case .notRecorded(let reply, let error):
                continuation.yield(QMPInboundMessage(json: reply, text: reply.serializedBytes(), failure: error))
            }
        }
        let engine = NIOLockedValueBox(ReplayEngine(session: session, mode: mode))
        let outbound = QMPOutbound(
            send: { bytes in
                let answer: [ReplayEngine.Answer]
                do {
                    let command = try JSON.parse(bytes)
                    answer = engine.withLockedValue { $0.answer(command) }
                } catch {
                    answer = [.message(["error": ["class": "GenericError", "desc": .string("JSON parse error: \(error)")]])]
                }
                answer.forEach(deliver)
            },
            close: { continuation.finish() }
        )
        let iterator = IteratorBox(stream.makeAsyncIterator())
        let inbound = QMPInbound { { try await iterator.next() } }
        try await body(inbound, outbound)
        continuation.finish()
    }
}


/// Chooses the recorded reply for each command (no I/O).
struct ReplayEngine: Sendable {
    let session: ReplaySession
    let mode: ReplayTransport.Mode
    private var nextInOrder = 0
    private var byKey: [Key: [Int]] = [:]
    private var served: [Key: Int] = [:]

    struct Key: Hashable, Sendable {
        var name: String
        var arguments: JSON
    }

    init(session: ReplaySession, mode: ReplayTransport.Mode) {
        self.session = session
        self.mode = mode
        for (position, exchange) in session.exchanges.enumerated() {
            byKey[Self.key(exchange.name, exchange.arguments), default: []].append(position)
        }
    }

    /// The matching key: name and arguments, except for `qmp_capabilities`, whose arguments (the capabilities the
    /// replaying client enables) say nothing about the recorded QEMU.
    static func key(_ name: String, _ arguments: JSON) -> Key {
        Key(name: name, arguments: name == "qmp_capabilities" ? .object([:]) : arguments)
    }

    /// One message delivered in answer to a command.
    enum Answer: Sendable, Equatable {
        /// A recorded message (the reply, with the caller's id, or an event after it).
        case message(JSON)
        /// No recorded reply: an error reply carrying the caller's id, and the transport's own verdict.
        case notRecorded(JSON, QMPError)
    }

    /// The messages to deliver in answer to `command`: its reply (with the caller's id) and the events after it.
    mutating func answer(_ command: JSON) -> [Answer] {
        let name = (command["execute"] ?? command["exec-oob"])?.stringValue ?? ""
        let key = Self.key(name, command["arguments"] ?? .object([:]))
        let position: Int
        switch mode {
        case .strict:
            guard nextInOrder < session.exchanges.count else {
                return [notRecorded(command, "the recording ended (\(session.exchanges.count) commands)")]
            }
            let expected = session.exchanges[nextInOrder]
            guard Self.key(expected.name, expected.arguments) == key else {
                return [notRecorded(command, "\(session.source):\(expected.line): expected \(Self.describe(expected.command)), got \(Self.describe(command))")]
            }
            position = nextInOrder
            nextInOrder += 1
        case .matching:
            guard let candidates = byKey[key] else {
                return [notRecorded(command, "\(session.source) has no \(Self.describe(command))")]
            }
            let turn = served[key, default: 0]
            served[key] = turn + 1
            position = candidates[min(turn, candidates.count - 1)]
        }
        let exchange = session.exchanges[position]
        guard case .object(var reply) = exchange.reply else {
            return [notRecorded(command, "\(session.source):\(exchange.line): the recording ends before the reply")]
        }
        reply["id"] = command["id"]
        return [.message(.object(reply))] + exchange.eventsAfter.map(Answer.message)
    }

    /// The transport's own failure of `command`: the client fails it with ``QMPError/notRecorded(command:detail:)``.
    private func notRecorded(_ command: JSON, _ detail: String) -> Answer {
        let name = (command["execute"] ?? command["exec-oob"])?.stringValue ?? ""
        var reply: JSONObject = ["error": ["class": "GenericError", "desc": .string(detail)]]
        reply["id"] = command["id"]
        return .notRecorded(.object(reply), .notRecorded(command: name, detail: detail))
    }

    static func describe(_ command: JSON) -> String {
        var object = command.objectValue ?? [:]
        object["id"] = nil
        let text = JSON.object(object).serialized()
        return text.count > 300 ? String(text.prefix(300)) + "..." : text
    }
}
