import Testing

@testable import QMP

/// Why a step of a scripted server failed.
struct FakeServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What every scripted QMP server of the tests writes (``FakeQMPServer`` over a socket pair, ``InMemoryQMPServer`` in
/// memory): the greeting, replies, errors and events, with the ids it echoes; and the check of what the client wrote.
protocol QMPServerScript: AnyObject {
    /// How the issues of this kind of server are introduced ("fake server").
    static var name: String { get }
    /// Waits for the script to end and returns the recorded failures.
    func finish() async -> [String]
    /// Releases what the client did not take (called after the client closed).
    func releaseClientEnd()
}

extension QMPServerScript {
    /// Runs `body` with a fresh client of `configuration` and this server; always closes the client, waits for the
    /// script, and records its failures as issues (even when `body` throws).
    func serve(configuration: QMPClient.Configuration, sourceLocation: SourceLocation,
               _ body: (QMPClient, Self) async throws -> Void) async throws {
        let client = QMPClient(configuration: configuration)
        var thrown: (any Error)?
        do {
            try await body(client, self)
        } catch {
            thrown = error
        }
        await client.close()
        releaseClientEnd()
        for failure in await finish() {
            Issue.record("\(Self.name): \(failure)", sourceLocation: sourceLocation)
        }
        if let thrown { throw thrown }
    }

    /// The greeting a script sends (QEMU 7.2.22 offering OOB).
    static var greeting: String {
        #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": ["oob"]}}"# + "\r\n"
    }

    /// The compact JSON text of `command`'s id (throws when it has none).
    func id(of command: JSON) throws -> String {
        guard let id = command["id"] else { throw FakeServerError("command without an id: \(command.serialized())") }
        return id.serialized()
    }

    /// The reply message to `command` (echoing its id).
    func replyMessage(to command: JSON, with value: JSON = [:]) -> JSON {
        var object: JSONObject = ["return": value]
        if let id = command["id"] { object["id"] = id }
        return .object(object)
    }

    /// The error reply to `command` (echoing its id).
    func errorMessage(to command: JSON, errorClass: String, description: String) -> JSON {
        var object: JSONObject = ["error": ["class": .string(errorClass), "desc": .string(description)]]
        if let id = command["id"] { object["id"] = id }
        return .object(object)
    }

    /// An event message.
    func eventMessage(_ name: String, data: JSON? = nil, seconds: Int64 = 1_700_000_000, microseconds: Int64 = 123_456) -> JSON {
        var object: JSONObject = ["event": .string(name)]
        if let data { object["data"] = data }
        object["timestamp"] = ["seconds": .int(seconds), "microseconds": .int(microseconds)]
        return .object(object)
    }

    /// What is wrong with the framing of `input`, everything the client wrote: every command must be compact JSON
    /// terminated by CRLF.
    static func framingFailures(_ input: [UInt8]) -> [String] {
        guard !input.isEmpty else { return [] }
        var failures: [String] = []
        let text = String(decoding: input, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        if lines.last == "" {
            lines.removeLast()
        } else {
            failures.append("the client's last command is not CRLF-terminated: \(text.suffix(100).debugDescription)")
        }
        for line in lines {
            guard let json = try? JSON.parse(line) else {
                failures.append("a command line is not one JSON value: \(line.prefix(200).debugDescription)")
                continue
            }
            if json.serialized() != line { failures.append("a command is not compact JSON: \(line.prefix(200))") }
        }
        return failures
    }
}
