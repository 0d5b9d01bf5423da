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
    static func loadJSONLines(_ bytes: [UInt8], source: String) throws -> ReplaySession {
        var header: SessionHeader?
        var greeting: JSON?
        var session: ReplaySession?
        var byID: [JSON: Int] = [:]
        var lastReplied: Int?
        var initialEvents: [JSON] = []
        var exchanges: [ReplaySession.Exchange] = []
        var lineNumber = 0
        var start = bytes.startIndex
        while start < bytes.endIndex {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.endIndex
            let line = bytes[start..<end]
            let terminated = end < bytes.endIndex
            start = terminated ? end + 1 : end
            if line.allSatisfy(JSON.isWhitespace) { continue }
            let json: JSON
            do {
                json = try JSON.parse(line)
            } catch {
                let reason = terminated ? "not valid JSON (\(error))" : "truncated line (\(error))"
                throw RecordingError(file: source, line: lineNumber, reason: reason)
            }
            if header == nil {
                guard case .object(let object) = json, object["format"]?.stringValue == SessionHeader.formatName else {
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
            guard let direction = json["dir"]?.stringValue, let message = json["msg"], message.objectValue != nil else {
                throw RecordingError(file: source, line: lineNumber, reason: "expected {\"dir\":..,\"t\":..,\"msg\":{..}}")
            }
            switch direction {
            case "out":
                guard message["execute"] != nil || message["exec-oob"] != nil else {
                    throw RecordingError(file: source, line: lineNumber, reason: "an outgoing message that is not a command")
                }
                // A command without an id gets a reply without one (a converted libvirt file may have them).
                byID[message["id"] ?? .null] = exchanges.count
                exchanges.append(.init(command: message, line: lineNumber))
            case "in":
                if let qmp = message["QMP"] {
                    greeting = qmp
                } else if message["event"] != nil {
                    if let lastReplied { exchanges[lastReplied].eventsAfter.append(message) } else { initialEvents.append(message) }
                } else if message["return"] != nil || message["error"] != nil {
                    guard let position = byID.removeValue(forKey: message["id"] ?? .null) else {
                        throw RecordingError(file: source, line: lineNumber,
                                             reason: "a reply without a matching command (id \(message["id"]?.serialized() ?? "none"))")
                    }
                    exchanges[position].reply = message
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
        session = ReplaySession(source: source, header: header, greeting: greeting, initialEvents: initialEvents,
                                exchanges: exchanges)
        return session!
    }
}
