import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A QMP connection over a socket (Unix domain, TCP, or an already-connected descriptor), with SwiftNIO.
///
/// Inbound bytes are split into messages by `JSONStreamParser` on the event loop. With ``run(receive:_:)`` (what
/// `QMPClient` uses) each message goes straight to the receiver; with ``run(_:)``'s message sequence, reading pauses
/// while ``highWatermark`` messages wait for its consumer and resumes at half of that, so memory stays bounded even
/// when the server floods events.
public struct SocketTransport: QMPTransport {
    /// Where to connect.
    public var endpoint: QMPEndpoint
    /// The largest accepted message, in bytes.
    public var maxMessageSize: Int
    /// The deepest accepted nesting.
    public var maxDepth: Int
    /// How long the connection itself may take.
    public var connectTimeout: Duration
    /// Messages parsed but not yet consumed above which reading from the socket pauses.
    public var highWatermark: Int = 256
    private let group: any EventLoopGroup

    /// A transport to `endpoint` with the given limits, on NIO's shared event loop group.
    public init(_ endpoint: QMPEndpoint, maxMessageSize: Int = 10 << 20, maxDepth: Int = 128,
                connectTimeout: Duration = .seconds(10), group: (any EventLoopGroup)? = nil) {
        self.endpoint = endpoint
        self.maxMessageSize = maxMessageSize
        self.maxDepth = maxDepth
        self.connectTimeout = connectTimeout
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    public func run(_ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
        try await run(direct: nil, body)
    }

    /// Delivers messages straight from the event loop to `receive` (no task hop, no buffering).
    public func run(receive: @escaping @Sendable (QMPInboundMessage) -> Void,
                    _ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
        try await run(direct: receive, body)
    }

    private func run(direct: (@Sendable (QMPInboundMessage) -> Void)?,
                     _ body: @escaping @Sendable (QMPInbound, QMPOutbound) async throws -> Void) async throws {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: QMPInboundMessage.self)
        let flow = FlowControl(highWatermark: highWatermark)
        let channel = try await connect(continuation: continuation, flow: flow, direct: direct)
        flow.channel = channel

        let iterator = IteratorBox(stream.makeAsyncIterator())
        let inbound = QMPInbound {
            return {
                let message = try await iterator.next()
                if message != nil { flow.consumed() }
                return message
            }
        }
        let outbound = QMPOutbound(
            // Always through the event loop's queue, never inline: a write on the event loop can fail and make NIO
            // read what is pending and deliver it (to `receive`) right there, re-entering the caller (which sends
            // while holding its lock). Tasks run in order, so messages still leave in the order of the calls.
            send: { bytes in
                let buffer = ByteBuffer(bytes: bytes)
                channel.eventLoop.execute { channel.writeAndFlush(buffer, promise: nil) }
            },
            close: { channel.eventLoop.execute { channel.close(promise: nil) } }
        )
        defer { channel.close(promise: nil) }
        try await body(inbound, outbound)
    }

    private func connect(continuation: AsyncThrowingStream<QMPInboundMessage, any Error>.Continuation,
                         flow: FlowControl, direct: (@Sendable (QMPInboundMessage) -> Void)?) async throws -> any Channel {
        let maxMessageSize = self.maxMessageSize
        let maxDepth = self.maxDepth
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000
                + connectTimeout.components.attoseconds / 1_000_000_000))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = QMPFramingHandler(
                        parser: JSONStreamParser(maxMessageSize: maxMessageSize, maxDepth: maxDepth),
                        continuation: continuation, flow: flow, direct: direct)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            switch endpoint {
            case .unix(let path):
                try Self.checkSocketPath(path)
                return try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port):
                return try await bootstrap.connect(host: host, port: port).get()
            case .connectedSocket(let descriptor):
                return try await bootstrap.withConnectedSocket(descriptor).get()
            }
        } catch let error as QMPError {
            continuation.finish()
            throw error
        } catch {
            continuation.finish()
            throw QMPError.connectFailed("\(endpoint): \(Self.describe(error))")
        }
    }

    /// Checks that `path` names a socket, for a clearer message than connect's errno.
    static func checkSocketPath(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw QMPError.connectFailed("unix:\(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw QMPError.connectFailed("unix:\(path): not a socket")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            // errno's words, not NIO's call site; a Unix socket whose listen queue is full answers EAGAIN at once.
            let words = String(cString: strerror(io.errnoCode))
            return io.errnoCode == EAGAIN ? "\(words): the monitor does not accept connections (is QEMU stopped or hung?)" : words
        }
        if let connect = error as? NIOConnectionError {
            return connect.connectionErrors.map { "\($0.target): \($0.error)" }.joined(separator: "; ")
        }
        if error is ChannelError, case ChannelError.connectTimeout = error as! ChannelError { return "connection timed out" }
        return "\(error)"
    }
}

/// Pauses reading while too many parsed messages wait for the consumer.
final class FlowControl: @unchecked Sendable {
    private let lock = NIOLock()
    private var buffered = 0
    private var paused = false
    private let highWatermark: Int
    private let lowWatermark: Int
    private var _channel: (any Channel)?

    var channel: (any Channel)? {
        get { lock.withLock { _channel } }
        set { lock.withLock { _channel = newValue } }
    }

    init(highWatermark: Int) {
        self.highWatermark = max(2, highWatermark)
        self.lowWatermark = max(1, highWatermark / 2)
    }

    /// How many parsed messages wait, and whether reading is paused (for the tests).
    var state: (buffered: Int, paused: Bool) { lock.withLock { (buffered, paused) } }

    /// A message was produced; returns whether reading should pause.
    func produced() -> Bool {
        lock.withLock {
            buffered += 1
            if buffered >= highWatermark, !paused {
                paused = true
                return true
            }
            return false
        }
    }

    /// A message was consumed; resumes reading below the low watermark.
    func consumed() {
        let resume: (any Channel)? = lock.withLock {
            buffered -= 1
            if paused, buffered <= lowWatermark {
                paused = false
                return _channel
            }
            return nil
        }
        if let resume {
            resume.eventLoop.execute {
                resume.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                resume.read()
            }
        }
    }
}


/// Feeds socket bytes to the JSON stream parser and hands complete messages to the consumer.
final class QMPFramingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let parser: JSONStreamParser
    private let continuation: AsyncThrowingStream<QMPInboundMessage, any Error>.Continuation
    private let flow: FlowControl
    private let direct: (@Sendable (QMPInboundMessage) -> Void)?
    private var finished = false

    init(parser: JSONStreamParser, continuation: AsyncThrowingStream<QMPInboundMessage, any Error>.Continuation,
         flow: FlowControl, direct: (@Sendable (QMPInboundMessage) -> Void)?) {
        self.parser = parser
        self.continuation = continuation
        self.flow = flow
        self.direct = direct
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        let buffer = unwrapInboundIn(data)
        var pause = false
        do {
            try buffer.withUnsafeReadableBytes { bytes in
                try parser.feed(bytes) { json, text in
                    let message = QMPInboundMessage(json: json, text: Array(text))
                    if let direct {
                        direct(message)
                    } else {
                        continuation.yield(message)
                        if flow.produced() { pause = true }
                    }
                }
            }
        } catch {
            finish(error: QMPError.protocolError("\(error)"))
            context.close(promise: nil)
            return
        }
        if pause {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if parser.hasPartialMessage {
            finish(error: QMPConnectionEnded(reason: "the connection ended in the middle of a message"))
        } else {
            finish(error: nil)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error: QMPConnectionEnded(reason: SocketTransport.describe(error)))
        context.close(promise: nil)
    }

    private func finish(error: (any Error)?) {
        guard !finished else { return }
        finished = true
        continuation.finish(throwing: error)
    }
}
