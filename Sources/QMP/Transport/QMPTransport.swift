/// One message received from the server: its JSON and its exact text.
public struct QMPInboundMessage: Sendable {
    /// The parsed message.
    public var json: JSON
    /// The message's bytes as they arrived (without surrounding whitespace).
    public var text: [UInt8]
    /// The transport's own answer to the command with this message's `id`, when the transport, not the server,
    /// decides it (a replay that has no such command: ``QMPError/notRecorded(command:detail:)``); the client fails
    /// that command with it instead of reading the message as the server's reply.
    public var failure: QMPError?

    /// A message from its parts.
    public init(json: JSON, text: [UInt8], failure: QMPError? = nil) {
        self.json = json
        self.text = text
        self.failure = failure
    }
}

/// The messages of one connection, in arrival order; ends at EOF, throws on a transport or framing error.
public struct QMPInbound: AsyncSequence, Sendable {
    public typealias Element = QMPInboundMessage

    private let makeNext: @Sendable () -> (@Sendable () async throws -> QMPInboundMessage?)

    /// An inbound sequence from a factory of `next` functions (one iterator per call).
    public init(_ makeNext: @escaping @Sendable () -> (@Sendable () async throws -> QMPInboundMessage?)) {
        self.makeNext = makeNext
    }

    /// An iterator over the messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextMessage: @Sendable () async throws -> QMPInboundMessage?
        /// The next message, or nil at the end of the connection.
        public mutating func next() async throws -> QMPInboundMessage? { try await nextMessage() }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextMessage: makeNext()) }
}

/// The sending side of one connection. Both functions may be called from any thread;
/// messages go out in the order of the calls.
public struct QMPOutbound: Sendable {
    /// Writes one complete, CRLF-terminated message.
    public let send: @Sendable ([UInt8]) -> Void
    /// Closes the connection; the inbound sequence then ends.
    public let close: @Sendable () -> Void

    /// An outbound side from its two functions.
    public init(send: @escaping @Sendable ([UInt8]) -> Void, close: @escaping @Sendable () -> Void) {
        self.send = send
        self.close = close
    }
}

/// A way to reach a QMP server: a socket, or a replayed recording.
///
/// ``QMPClient`` runs the same code over every transport.
public protocol QMPTransport: Sendable {
    /// Opens the connection, runs `body` with its two sides, and closes the connection when `body` returns.
    /// - Throws: ``QMPError/connectFailed(_:)`` when the connection cannot be made, or what `body` throws.
    func run(_ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws

    /// Like ``run(_:)``, but hands each message to `receive` as it arrives (possibly on the transport's own
    /// thread, saving a task hop per message); the inbound sequence given to `body` then yields nothing and only
    /// ends (or throws) with the connection. `receive` must be quick and must not block.
    func run(receive: @escaping @Sendable (QMPInboundMessage) -> Void,
             _ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws
}

extension QMPTransport {
    /// The default: messages are pumped from ``run(_:)``'s sequence into `receive` as `body` iterates.
    public func run(receive: @escaping @Sendable (QMPInboundMessage) -> Void,
                    _ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
        try await run { inbound, outbound in
            let pumped = QMPInbound {
                let box = IteratorBox(inbound.makeAsyncIterator())
                return {
                    while let message = try await box.next() { receive(message) }
                    return nil
                }
            }
            try await body(pumped, outbound)
        }
    }
}

/// Lets the single task that consumes an async sequence call its iterator through a `@Sendable` closure.
final class IteratorBox<Iterator: AsyncIteratorProtocol>: @unchecked Sendable {
    private var iterator: Iterator
    init(_ iterator: Iterator) { self.iterator = iterator }
    func next() async throws -> Iterator.Element? { try await iterator.next() }
}

/// Thrown by a transport's inbound sequence when the connection ended abnormally (not a protocol violation):
/// pending commands fail as ``QMPError/interrupted(command:reason:)``.
public struct QMPConnectionEnded: Error, Sendable {
    /// Why the connection ended.
    public var reason: String
    /// An error with a reason.
    public init(reason: String) { self.reason = reason }
}
