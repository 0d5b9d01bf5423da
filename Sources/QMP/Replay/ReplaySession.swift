/// A recorded QMP conversation ready to replay: the greeting, then each command with its reply and the
/// events that followed, wherever it came from (our JSON Lines recordings or libvirt's `.replies` files).
public struct ReplaySession: Sendable {
    /// One command and what QEMU answered.
    public struct Exchange: Sendable {
        /// The command as sent (`execute`/`exec-oob`, `arguments`, `id`).
        public var command: JSON
        /// Where the command is in the source (1-based line).
        public var line: Int
        /// The reply, or nil when the recording ends before it came (converted from the file on first use).
        public var reply: JSON? {
            get { deferredReply?.value }
            set { deferredReply = newValue.map(DeferredJSON.init) }
        }
        /// The reply as loaded: large replies stay in json-c's form until a replay needs them.
        public var deferredReply: DeferredJSON?
        /// Events recorded after the reply and before the next reply.
        public var eventsAfter: [JSON] = []

        /// An exchange from its parts.
        public init(command: JSON, line: Int, reply: JSON? = nil, eventsAfter: [JSON] = []) {
            self.command = command
            self.line = line
            self.deferredReply = reply.map(DeferredJSON.init)
            self.eventsAfter = eventsAfter
        }

        /// An exchange whose reply is converted on first use.
        public init(command: JSON, line: Int, deferredReply: DeferredJSON?, eventsAfter: [JSON] = []) {
            self.command = command
            self.line = line
            self.deferredReply = deferredReply
            self.eventsAfter = eventsAfter
        }

        /// The command's name.
        public var name: String { (command["execute"] ?? command["exec-oob"])?.stringValue ?? "" }
        /// The command's arguments (an empty object when absent).
        public var arguments: JSON { command["arguments"] ?? .object([:]) }
    }

    /// Where the session was read from (for error messages).
    public var source: String
    /// The header (recorded or synthesized).
    public var header: SessionHeader
    /// The greeting's `QMP` value.
    public var greeting: JSON
    /// Events recorded before the first reply.
    public var initialEvents: [JSON] = []
    /// The commands in the order they were sent.
    public var exchanges: [Exchange] = []

    /// A session from its parts.
    public init(source: String, header: SessionHeader, greeting: JSON, initialEvents: [JSON] = [],
                exchanges: [Exchange] = []) {
        self.source = source
        self.header = header
        self.greeting = greeting
        self.initialEvents = initialEvents
        self.exchanges = exchanges
    }

    /// QEMU's version, from the greeting.
    public var qemuVersion: QEMUVersion? { try? QMPGreeting(greeting).version }

    /// The reply recorded for the first command named `name` (with `arguments`, when given).
    public func reply(to name: String, arguments: JSON? = nil) -> JSON? {
        exchanges.first { $0.name == name && (arguments == nil || $0.arguments == arguments!) }?.reply
    }
}

/// Why a recording could not be read: the file, the line, and what is wrong there.
public struct RecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The 1-based line (0 when the problem is the file as a whole).
    public var line: Int
    /// What is wrong.
    public var reason: String

    /// An error at `file:line`.
    public init(file: String, line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)" }
}
