/// One message from the server, classified.
public enum QMPServerMessage: Sendable, Equatable {
    /// The greeting QEMU sends first.
    case greeting(QMPGreeting)
    /// A successful reply: the command's `return` value and the `id` it echoed (nil when absent).
    case success(id: JSON?, value: JSON)
    /// An error reply: QEMU's `class` and `desc`, and the `id` (nil when QEMU could not read one).
    case failure(id: JSON?, errorClass: String, description: String)
    /// An asynchronous event.
    case event(QMPEvent)

    /// Classifies a JSON message from the server.
    /// - Throws: ``QMPError/protocolError(_:)`` when the message is none of the four kinds.
    public init(_ json: JSON) throws {
        guard case .object(let object) = json else {
            throw QMPError.protocolError("expected a JSON object from the server, got \(json.serialized().prefix(200))")
        }
        if let greeting = object["QMP"] {
            self = .greeting(try QMPGreeting(greeting))
        } else if let value = object["return"] {
            self = .success(id: object["id"], value: value)
        } else if let error = object["error"] {
            guard let errorClass = error["class"]?.stringValue else {
                throw QMPError.protocolError("error reply without a class: \(json.serialized().prefix(200))")
            }
            self = .failure(id: object["id"], errorClass: errorClass, description: error["desc"]?.stringValue ?? "")
        } else if let name = object["event"]?.stringValue {
            self = .event(QMPEvent(name: name, data: object["data"] ?? .object([:]), timestamp: QMPTimestamp(object["timestamp"])))
        } else {
            throw QMPError.protocolError("unrecognised message from the server: \(json.serialized().prefix(200))")
        }
    }
}

/// A command to send: name, arguments and whether it goes out-of-band.
public struct QMPCommand: Sendable, Equatable {
    /// The command name, e.g. `query-version`.
    public var name: String
    /// The arguments object, or nil to send none.
    public var arguments: JSONObject?
    /// Whether to send it with `exec-oob` (the command must allow OOB and OOB must be enabled).
    public var outOfBand: Bool

    /// A command with optional arguments.
    public init(_ name: String, arguments: JSONObject? = nil, outOfBand: Bool = false) {
        self.name = name
        self.arguments = arguments
        self.outOfBand = outOfBand
    }

    /// The wire form of the command with the given id.
    public func message(id: JSON) -> JSON {
        var object = JSONObject()
        object[outOfBand ? "exec-oob" : "execute"] = .string(name)
        if let arguments { object["arguments"] = .object(arguments) }
        object["id"] = id
        return .object(object)
    }

    /// The wire bytes of the command with the given id, CRLF-terminated.
    public func encoded(id: JSON) -> [UInt8] {
        var bytes = message(id: id).serializedBytes()
        bytes.append(0x0D)
        bytes.append(0x0A)
        return bytes
    }
}
