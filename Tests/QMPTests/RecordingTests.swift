import Foundation
import Testing
@testable import QMP

/// Recording to JSON Lines, reading back, redaction, and malformed files.
struct RecordingTests {
    static func temporaryPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qmp-recording-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }

    /// A small session to replay: greeting, two commands (one failing), an event after the first reply.
    static let session: ReplaySession = {
        var header = SessionHeader(arch: "x86_64", accelerator: "tcg")
        let greeting: JSON = ["version": ["qemu": ["micro": 22, "minor": 2, "major": 7], "package": "test"], "capabilities": ["oob"]]
        header.greeting = greeting
        return ReplaySession(source: "inline", header: header, greeting: greeting, exchanges: [
            .init(command: ["execute": "qmp_capabilities", "id": 1], line: 2, reply: ["return": [:], "id": 1]),
            .init(command: ["execute": "stop", "id": 2], line: 3, reply: ["return": [:], "id": 2],
                  eventsAfter: [["event": "STOP", "data": [:], "timestamp": ["seconds": 1, "microseconds": 2]]]),
            .init(command: ["execute": "object-add", "arguments": ["qom-type": "secret", "id": "s0", "data": "hunter2"], "id": 3],
                  line: 4, reply: ["return": [:], "id": 3]),
            .init(command: ["execute": "nope", "id": 4], line: 5,
                  reply: ["error": ["class": "CommandNotFound", "desc": "The command nope has not been found"], "id": 4]),
        ])
    }()

    @Test("a client session over the replay transport records to a file that loads back the same exchanges")
    func recordAndReload() async throws {
        let path = Self.temporaryPath("roundtrip.jsonl")
        let recorder = try SessionRecorder(path: path, header: SessionHeader(arch: "x86_64", accelerator: "tcg"))
        var configuration = QMPClient.Configuration()
        configuration.recorder = recorder
        let client = QMPClient(configuration: configuration)
        let events = client.events()
        try await client.connect(using: ReplayTransport(session: Self.session, mode: .strict))
        _ = try await client.execute("stop")
        _ = try await client.execute("object-add", arguments: ["qom-type": "secret", "id": "s0", "data": "hunter2"])
        await #expect(throws: QMPError.self) { try await client.execute("nope") }
        await client.close()
        try recorder.finish()
        var names: [String] = []
        for await event in events { names.append(event.name) }
        #expect(names == ["STOP"])

        let loaded = try #require(try RecordingLoader.load(path: path).first)
        #expect(loaded.qemuVersion?.description == "7.2.22")
        #expect(loaded.header.accelerator == "tcg")
        #expect(loaded.header.json["host_cpu"] == nil, "the QMP module writes no host CPU of its own (the prober adds it)")
        #expect(loaded.exchanges.map(\.name) == ["qmp_capabilities", "stop", "object-add", "nope"])
        #expect(loaded.exchanges[1].eventsAfter.first?["event"]?.stringValue == "STOP")
        #expect(loaded.exchanges[3].reply?["error"]?["class"]?.stringValue == "CommandNotFound")
        // Replaying the recording answers the same way.
        let again = QMPClient()
        try await again.connect(using: ReplayTransport(session: loaded, mode: .strict))
        #expect(try await again.execute("stop") == .object([:]))
        await again.close()
    }

    @Test("a loaded recording keeps replies in json-c's form until used, then gives what a full parse of the line gives")
    func repliesConvertOnFirstUse() throws {
        let path = TestPaths.repository + "/recorded-sessions/qemu-7.2-x86_64-tcg.jsonl"
        let session = try #require(try RecordingLoader.load(path: path).first)
        #expect(session.exchanges.count > 100)
        #expect(session.exchanges.allSatisfy { $0.deferredReply?.isConverted == false })
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        for exchange in session.exchanges.prefix(40) {
            // The reply is the line after the command's in this recording (one command in flight at a time or not,
            // every reply's id names its command); find it by id and compare with an eager parse.
            let id = try #require(exchange.command["id"])
            let line = try #require(lines.first { line in
                guard let json = try? JSON.parse(String(line)), json["dir"]?.stringValue == "in" else { return false }
                return json["msg"]?["id"] == id
            })
            let eager = try JSON.parse(String(line))["msg"]
            #expect(exchange.reply == eager)
            #expect(exchange.deferredReply?.isConverted == true)
        }
        #expect(session.exchanges.last?.deferredReply?.isConverted == false)
    }

    @Test("secrets never reach the file")
    func secretsRedacted() async throws {
        let path = Self.temporaryPath("secret.jsonl")
        let recorder = try SessionRecorder(path: path, header: SessionHeader())
        var configuration = QMPClient.Configuration()
        configuration.recorder = recorder
        let client = QMPClient(configuration: configuration)
        try await client.connect(using: ReplayTransport(session: Self.session, mode: .matching))
        // The replay matches on the real arguments; the recording must still hold only the marker.
        _ = try await client.execute("object-add", arguments: ["qom-type": "secret", "id": "s0", "data": "hunter2"])
        await client.close()
        try recorder.finish()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("hunter2"))
        #expect(text.contains(SecretRedaction.marker))
        #expect(text.contains("\"qom-type\":\"secret\""))
    }

    @Test("redaction covers passwords and key material wherever they appear")
    func redactionRules() {
        let command: JSON = ["execute": "set_password", "arguments": ["protocol": "vnc", "password": "pw1"]]
        #expect(SecretRedaction.redact(command)["arguments"]?["password"]?.stringValue == SecretRedaction.marker)
        #expect(SecretRedaction.redact(command)["arguments"]?["protocol"]?.stringValue == "vnc")
        let nested: JSON = ["execute": "blockdev-add", "arguments": ["driver": "luks", "options": [["key": "k", "passphrase": "p"]]]]
        let redacted = SecretRedaction.redact(nested).serialized()
        #expect(!redacted.contains("\"k\"") && !redacted.contains("\"p\""))
        // Not a secret object: `data` stays.
        let other: JSON = ["execute": "object-add", "arguments": ["qom-type": "memory-backend-ram", "id": "m", "data": "x"]]
        #expect(SecretRedaction.redact(other) == other)
    }

    @Test("each message is on disk as soon as it crossed the wire (a killed process leaves a valid prefix)")
    func prefixWithoutFinish() async throws {
        let path = Self.temporaryPath("prefix.jsonl")
        let recorder = try SessionRecorder(path: path, header: SessionHeader())
        var configuration = QMPClient.Configuration()
        configuration.recorder = recorder
        let client = QMPClient(configuration: configuration)
        try await client.connect(using: ReplayTransport(session: Self.session, mode: .strict))
        _ = try await client.execute("stop")
        // No close(), no finish(): read what is on disk now, as a process killed here would leave it.
        let loaded = try #require(try RecordingLoader.load(path: path).first)
        #expect(loaded.exchanges.map(\.name) == ["qmp_capabilities", "stop"])
        #expect(loaded.exchanges.allSatisfy { $0.reply != nil })
        await client.close()
        try recorder.finish()
    }

    @Test("malformed recordings name the file and the line", arguments: [
        ("{\"format\":\"qmp-probe-session\",\"version\":1,\"greeting\":{}}\n{\"dir\":\"out\",\"t\":0,\"msg\":{\"execute\":\"a\",\"id\":1}}\n{\"dir\":\"in\",\"t\":0,\"msg\":{\"ret", 3, "truncated line"),
        ("{\"format\":\"qmp-probe-session\",\"version\":1,\"greeting\":{}}\n{\"dir\":\"out\" nope}\n", 2, "not valid JSON"),
        ("{\"format\":\"something-else\",\"version\":1}\n", 1, "wrong header"),
        ("{\"format\":\"qmp-probe-session\",\"version\":7}\n", 1, "unsupported format version"),
        ("{\"format\":\"qmp-probe-session\",\"version\":1,\"greeting\":{}}\n{\"dir\":\"in\",\"t\":0,\"msg\":{\"return\":{},\"id\":9}}\n", 2, "a reply without a matching command"),
        // json-c takes NaN even when strict; a reply kept unconverted must still be rejected when the file loads.
        ("{\"format\":\"qmp-probe-session\",\"version\":1,\"greeting\":{}}\n{\"dir\":\"out\",\"t\":0,\"msg\":{\"execute\":\"a\",\"id\":1}}\n{\"dir\":\"in\",\"t\":0,\"msg\":{\"return\":{\"x\":[1,NaN]},\"id\":1}}\n", 3, "NaN is not JSON"),
        ("{\n  \"return\": {},\n  \"id\": \"libvirt-1\"\n}\n", 1, "a reply without a command"),
        ("{\n  \"execute\": \"qmp_capabilities\",\n  \"id\": \"libvirt-1\"\n}\n\n{\n  \"execute\": \"x\"\n}\n", 6, "found another command"),
    ])
    func malformed(text: String, line: Int, reason: String) throws {
        let name = "bad-\(line)-\(abs(reason.hashValue)).replies"
        let path = Self.temporaryPath(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: RecordingError.self) { try RecordingLoader.load(path: path) }
        #expect(error?.file == path)
        #expect(error?.line == line)
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }
}
