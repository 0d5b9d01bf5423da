import Foundation

/// Reads recorded sessions: our JSON Lines format and libvirt's `.replies` files.
public enum RecordingLoader {
    /// Loads every session in `path`, detecting the format (our header line, or libvirt's blocks).
    /// - Throws: ``RecordingError`` naming the file and line.
    public static func load(path: String) throws -> [ReplaySession] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecordingError(file: path, line: 0, reason: "cannot be read (\(String(cString: strerror(errno))))")
        }
        return try load(bytes: [UInt8](data), source: path)
    }

    /// Loads sessions from bytes; `source` names them in errors.
    public static func load(bytes: [UInt8], source: String) throws -> [ReplaySession] {
        let firstByte = bytes.first { !JSON.isWhitespace($0) }
        guard firstByte != nil else { throw RecordingError(file: source, line: 1, reason: "the file is empty") }
        if let newline = bytes.firstIndex(of: 0x0A), let first = try? JSON.parse(bytes[..<newline]),
           first["format"] != nil {
            return [try loadJSONLines(bytes, source: source)]
        }
        if bytes.firstIndex(of: 0x0A) == nil, let first = try? JSON.parse(bytes), first["format"] != nil {
            return [try loadJSONLines(bytes, source: source)]
        }
        if source.hasSuffix(".replies") || bytes.starts(with: Array("{\n".utf8)) {
            return try LibvirtReplies.load(bytes, source: source)
        }
        throw RecordingError(file: source, line: 1,
                             reason: "wrong header: expected {\"format\":\"\(SessionHeader.formatName)\",...} or a libvirt .replies file")
    }

    /// Parses our JSON Lines format.
    ///
    /// Each line goes through json-c once; commands, events and the header become ``JSON`` values now, replies
    /// (most of a recording's bytes) stay in json-c's form until replayed (``ReplaySession/Exchange/deferredReply``).
    static func loadJSONLines(_ bytes: [UInt8], source: String) throws -> ReplaySession {
        try bytes.withUnsafeBytes { try loadJSONLines($0, source: source) }
    }

    private static func loadJSONLines(_ bytes: UnsafeRawBufferPointer, source: String) throws -> ReplaySession {
        var header: SessionHeader?
        var greeting: JSON?
        var byID: [JSON: Int] = [:]
        var lastReplied: Int?
        var initialEvents: [JSON] = []
        var exchanges: [ReplaySession.Exchange] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            let end = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start)
                .map { UnsafeRawPointer($0) - bytes.baseAddress! } ?? bytes.count
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            let terminated = end < bytes.count
            start = terminated ? end + 1 : end
            if line.allSatisfy(JSON.isWhitespace) { continue }
            let document: ParsedJSON
            do {
                document = try ParsedJSON(parsing: line)
            } catch {
                let reason = terminated ? "not valid JSON (\(error))" : "truncated line (\(error))"
                throw RecordingError(file: source, line: lineNumber, reason: reason)
            }
            let root = document.rootNode
            if header == nil {
                guard case .object(let object) = root.json, object["format"]?.stringValue == SessionHeader.formatName else {
                    throw RecordingError(file: source, line: lineNumber,
                                         reason: "wrong header: expected \"format\": \"\(SessionHeader.formatName)\"")
                }
                guard object["version"]?.int64Value == SessionHeader.formatVersion else {
                    throw RecordingError(file: source, line: lineNumber,
                                         reason: "unsupported format version \(object["version"]?.serialized() ?? "none") (this reader knows \(SessionHeader.formatVersion))")
                }
                header = SessionHeader(json: object)
                greeting = object["greeting"]
                continue
            }
            guard let direction = root["dir"]?.stringValue, let message = root["msg"], message.isObject else {
                throw RecordingError(file: source, line: lineNumber, reason: "expected {\"dir\":..,\"t\":..,\"msg\":{..}}")
            }
            switch direction {
            case "out":
                let command = message.json
                guard command["execute"] != nil || command["exec-oob"] != nil else {
                    throw RecordingError(file: source, line: lineNumber, reason: "an outgoing message that is not a command")
                }
                // A command without an id gets a reply without one (a converted libvirt file may have them).
                byID[command["id"] ?? .null] = exchanges.count
                exchanges.append(.init(command: command, line: lineNumber))
            case "in":
                if let qmp = message["QMP"] {
                    greeting = qmp.json
                } else if message["event"] != nil {
                    let event = message.json
                    if let lastReplied { exchanges[lastReplied].eventsAfter.append(event) } else { initialEvents.append(event) }
                } else if message["return"] != nil || message["error"] != nil {
                    let id = message["id"]?.json ?? .null
                    guard let position = byID.removeValue(forKey: id) else {
                        throw RecordingError(file: source, line: lineNumber,
                                             reason: "a reply without a matching command (id \(message["id"]?.json.serialized() ?? "none"))")
                    }
                    exchanges[position].deferredReply = message.deferred
                    lastReplied = position
                } else {
                    throw RecordingError(file: source, line: lineNumber, reason: "an incoming message of unknown kind")
                }
            default:
                throw RecordingError(file: source, line: lineNumber, reason: "unknown direction '\(direction)'")
            }
        }
        guard let header else { throw RecordingError(file: source, line: 1, reason: "the file has no header") }
        guard let greeting else { throw RecordingError(file: source, line: 1, reason: "the header has no greeting") }
        return ReplaySession(source: source, header: header, greeting: greeting, initialEvents: initialEvents,
                             exchanges: exchanges)
    }
}
