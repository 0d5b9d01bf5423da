/// Reads libvirt's `.replies` capability probes (`tests/qemucapabilitiesdata/`): pretty-printed JSON blocks
/// separated by a blank line, alternating command and reply, no greeting, no events. A file holds one
/// session, or a KVM session followed by a TCG one (each starting with `qmp_capabilities`).
public enum LibvirtReplies {
    /// Loads each session of a `.replies` file; the greeting is synthesized from `query-version`
    /// (taken from the first session when a later one lacks it), the accelerator from `query-kvm` and the session's
    /// place: the first of several is `kvm` (or `hvf` when KVM was not enabled), the others `tcg`.
    /// - Throws: ``RecordingError`` naming the file and line.
    public static func load(_ bytes: [UInt8], source: String) throws -> [ReplaySession] {
        var blocks: [(json: ParsedJSON.Node, line: Int)] = []
        var lineNumber = 1
        var blockStart: Int?
        var blockLine = 1
        var position = bytes.startIndex
        var previousNewline = false
        func flush(upTo end: Int) throws {
            guard let start = blockStart else { return }
            let text = bytes[start..<end]
            do {
                blocks.append((try text.withUnsafeBytes { try ParsedJSON(parsing: $0) }.rootNode, blockLine))
            } catch {
                throw RecordingError(file: source, line: blockLine, reason: "not valid JSON (\(error))")
            }
            blockStart = nil
        }
        while position < bytes.endIndex {
            let byte = bytes[position]
            if byte == 0x0A {
                if previousNewline { try flush(upTo: position) }
                previousNewline = true
                lineNumber += 1
            } else {
                if blockStart == nil, !JSON.isWhitespace(byte) {
                    blockStart = position
                    blockLine = lineNumber
                }
                if byte != 0x0D && byte != 0x20 && byte != 0x09 { previousNewline = false }
            }
            position += 1
        }
        try flush(upTo: bytes.endIndex)

        // Commands are small and converted now; replies stay in json-c's form until replayed.
        var sessions: [[(command: (JSON, Int), reply: (ParsedJSON.Node, Int)?)]] = []
        var index = 0
        while index < blocks.count {
            let command = blocks[index].json.json
            let line = blocks[index].line
            guard let name = command["execute"]?.stringValue else {
                let what = command["return"] != nil || command["error"] != nil ? "a reply without a command" : "expected a command"
                throw RecordingError(file: source, line: line, reason: what)
            }
            if name == "qmp_capabilities" || sessions.isEmpty { sessions.append([]) }
            var reply: (ParsedJSON.Node, Int)?
            if index + 1 < blocks.count {
                let candidate = blocks[index + 1]
                guard candidate.json["return"] != nil || candidate.json["error"] != nil else {
                    throw RecordingError(file: source, line: candidate.line,
                                         reason: "expected the reply to '\(name)' (line \(line)), found another command")
                }
                let replyID = candidate.json["id"]?.json
                if replyID != command["id"] {
                    throw RecordingError(file: source, line: candidate.line,
                                         reason: "reply id \(replyID?.serialized() ?? "none") does not match command id \(command["id"]?.serialized() ?? "none")")
                }
                reply = candidate
                index += 2
            } else {
                index += 1
            }
            sessions[sessions.count - 1].append((command: (command, line), reply: reply))
        }

        var firstVersion: JSON?
        var arch: String?
        var result: [ReplaySession] = []
        for (number, exchanges) in sessions.enumerated() {
            func reply(_ name: String) -> JSON? {
                exchanges.first { $0.command.0["execute"]?.stringValue == name }?.reply?.0["return"]?.json
            }
            let version = reply("query-version") ?? firstVersion
            firstVersion = firstVersion ?? version
            arch = reply("query-target")?["arch"]?.stringValue ?? arch
            // libvirt probes the hardware accelerator first, then again TCG-only (only when there is one): a first
            // session of several ran KVM when query-kvm says so, else libvirt's other one, Hypervisor.framework
            // (`hvf`, the `+hvf` files recorded on macOS); a lone session or a later one ran TCG.
            let accelerator: String
            if number == 0 && sessions.count > 1 {
                accelerator = reply("query-kvm").map { $0["enabled"]?.boolValue == true } ?? true ? "kvm" : "hvf"
            } else if let kvm = reply("query-kvm") {
                accelerator = kvm["enabled"]?.boolValue == true ? "kvm" : "tcg"
            } else {
                accelerator = "tcg"
            }
            guard let version else {
                throw RecordingError(file: source, line: 0, reason: "no query-version reply to make a greeting from")
            }
            let greeting: JSON = ["version": version, "capabilities": []]
            var header = SessionHeader(arch: arch, accelerator: accelerator,
                                       source: "libvirt \(source.split(separator: "/").last ?? "") session \(number + 1)")
            header.greeting = greeting
            result.append(ReplaySession(
                source: source, header: header, greeting: greeting,
                exchanges: exchanges.map { .init(command: $0.command.0, line: $0.command.1, deferredReply: $0.reply?.0.deferred) }))
        }
        return result
    }
}
