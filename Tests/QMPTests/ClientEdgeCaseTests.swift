import Foundation
import Testing

@testable import QMP

/// A real `QMPClient` against a scripted server: in memory (``InMemoryQMPServer``: no socket, no thread) where the
/// socket adds nothing, over a socket pair (``FakeQMPServer``) where the socket's framing and reading are the point
/// (split and merged reads, a message above the limit, garbage, a connection cut in a message, a flood of events).
/// Two event tests stay on the socket for another reason: their server answers `qmp_capabilities`, sends events and
/// hangs up at once; in memory that end reaches the client before `connect()` marks the session running, and
/// `connect()` then fails ("the session ended during negotiation"), a race the socket's latency hides.
@Suite("QMPClient edge cases", .timeLimit(.minutes(2)))
struct ClientEdgeCaseTests {
    // MARK: Helpers

    /// Runs `operation` and captures its outcome.
    static func outcome(_ operation: () async throws -> JSON) async -> Result<JSON, any Error> {
        do {
            return .success(try await operation())
        } catch {
            return .failure(error)
        }
    }

    /// Reads every event until the sequence ends.
    static func drain(_ events: AsyncStream<QMPEvent>) async -> [QMPEvent] {
        var seen: [QMPEvent] = []
        for await event in events { seen.append(event) }
        return seen
    }

    /// The `tag` argument of a command the server received.
    static func tag(_ command: JSON) -> JSON { command["arguments"]?["tag"] ?? .null }

    /// Runs `count` concurrent `echo` commands (tags 0..<count) and returns each outcome by tag.
    static func concurrentEchoes(_ client: QMPClient, count: Int, name: String = "echo") async -> [Int: Result<JSON, any Error>] {
        await withTaskGroup(of: (Int, Result<JSON, any Error>).self) { group in
            for tag in 0..<count {
                group.addTask {
                    (tag, await outcome { try await client.execute(name, arguments: ["tag": .int(Int64(tag))]) })
                }
            }
            var results: [Int: Result<JSON, any Error>] = [:]
            for await (tag, result) in group { results[tag] = result }
            return results
        }
    }

    /// Waits for `task` to finish, or gives up after `limit` (a guard against a hang, never a speed check).
    /// Returns nil when the task did not finish; the task is then left suspended.
    static func result<T: Sendable>(of task: Task<T, any Error>, orGiveUpAfter limit: Duration) async -> Result<T, any Error>? {
        let once = FakeMailbox<Result<T, any Error>?>()
        Task { once.put(await task.result) }
        Task {
            try? await Task.sleep(for: limit)
            once.put(nil)
        }
        return await once.take() ?? nil
    }

    // MARK: Framing

    @Test("a greeting split into single bytes, and split replies, are reassembled")
    func splitFrames() async throws {
        try await withFakeServer(script: { server in
            try server.send(FakeQMPServer.greeting, chunkSize: 1, pause: 0.001)
            let capabilities = try server.expectCommand("qmp_capabilities")
            try server.send(server.replyMessage(to: capabilities).serialized() + "\r\n", chunkSize: 2, pause: 0.001)
            let command = try server.expectCommand("query-name")
            // Non-ASCII escaped, as QEMU writes it, cut inside the escapes too.
            let text = #"{"return": {"name": "vm \u00e9 \ud83d\ude00 \u4e2d"}, "id": "# + (try server.id(of: command)) + "}\r\n"
            // Byte by byte, except the closing brace and CRLF in one write: once the reply is complete
            // the test may hang up, and a later write would fail.
            let bytes = Array(text.utf8)
            try server.send(bytes: Array(bytes.dropLast(3)), chunkSize: 1, pause: 0.0005)
            try server.send(bytes: Array(bytes.suffix(3)))
            try server.expectEOF()
        }) { client, server in
            try await client.connect(to: server.endpoint)
            #expect(client.runState == .running)
            let greeting = try #require(client.greeting)
            #expect(greeting.version == QEMUVersion(major: 7, minor: 2, micro: 22, package: "fake"))
            #expect(greeting.capabilities == ["oob"])
            let value = try await client.execute("query-name")
            #expect(value == ["name": "vm é 😀 中"])
            #expect(client.runState == .running)
        }
    }

    @Test("raw UTF-8 split between two reads inside a character is reassembled")
    func splitRawUTF8() async throws {
        try await withFakeServer(script: { server in
            try server.greetAndNegotiate()
            let command = try server.expectCommand("query-name")
            let text = Array((#"{"return": {"name": "vm é"}, "id": "# + (try server.id(of: command)) + "}\r\n").utf8)
            guard let lead = text.firstIndex(of: 0xC3) else { throw FakeServerError("no é in \(text)") }
            let cut = lead + 1
            // Two writes, the second once the client has read the first: two reads, split inside "é".
            try server.send(bytes: Array(text[..<cut]))
            try server.waitUntilClientRead()
            try server.send(bytes: Array(text[cut...]))
            try server.expectEOF()
        }) { client, server in
            try await client.connect(to: server.endpoint)
            #expect(try await client.execute("query-name") == ["name": "vm é"])
            #expect(client.runState == .running)
        }
    }

    @Test("two replies and an event merged into one write reach their callers and the subscriber")
    func mergedFrames() async throws {
        try await withFakeServer(script: { server in
            // The greeting, with an event stuck to it.
            try server.send(FakeQMPServer.greeting + server.eventMessage("FIRST").serialized())
            try server.acceptNegotiation()
            let first = try server.expectCommand("echo")
            let second = try server.expectCommand("echo")
            // Both replies and an event in one write, with no whitespace between two of the messages.
            let text = server.replyMessage(to: second, with: ["tag": Self.tag(second)]).serialized()
                + server.eventMessage("MERGED", data: ["n": 1]).serialized() + "\r\n"
                + server.replyMessage(to: first, with: ["tag": Self.tag(first)]).serialized() + "\r\n"
            try server.send(text)
            server.signal()
            try server.expectEOF()
        }) { client, server in
            let events = client.events()
            try await client.connect(to: server.endpoint)
            let results = await Self.concurrentEchoes(client, count: 2)
            for tag in 0..<2 {
                #expect(try results[tag]?.get() == ["tag": .int(Int64(tag))])
            }
            await client.close()
            let seen = await Self.drain(events)
            #expect(seen.map(\.name) == ["FIRST", "MERGED"])
            #expect(seen.last?.data == ["n": 1])
            #expect(await server.nextSignal() != nil)
        }
    }

    // MARK: Events during negotiation

    @Test("events before the greeting and during qmp_capabilities are events; negotiation still succeeds")
    func earlyEvents() async throws {
        try await withInMemoryServer(script: { server in
            try await server.event("BEFORE_GREETING", data: ["n": 1])
            try await server.greet()
            let capabilities = try await server.expectCommand("qmp_capabilities")
            // go-qemu #210: an event arriving here must not be taken for the reply. If it were, connect() would
            // return and the client would send its next command before the real reply.
            try await server.event("DURING_NEGOTIATION", data: ["n": 2])
            let early = try await server.receivedAnything(within: 0.1)
            server.check(!early, "the client sent a command before qmp_capabilities was answered")
            try await server.reply(to: capabilities)
            let command = try await server.expectCommand("query-status")
            try await server.reply(to: command, with: ["status": "running"])
            try await server.expectEOF()
        }) { client, server in
            let events = client.events()
            try await client.connect(using: server.transport)
            #expect(client.runState == .running)
            #expect(try await client.execute("query-status") == ["status": "running"])
            await client.close()
            let seen = await Self.drain(events)
            #expect(seen.map(\.name) == ["BEFORE_GREETING", "DURING_NEGOTIATION"])
            #expect(seen.map(\.data) == [["n": 1], ["n": 2]])
            #expect(seen.first?.timestamp == QMPTimestamp(seconds: 1_700_000_000, microseconds: 123_456))
        }
    }

    // MARK: Matching replies

    @Test("replies out of order reach the right callers")
    func outOfOrderReplies() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            let commands = try await server.expectCommands("echo", count: 3)
            for command in commands.reversed() {
                try await server.reply(to: command, with: ["tag": Self.tag(command)])
            }
        }) { client, server in
            try await client.connect(using: server.transport)
            let results = await Self.concurrentEchoes(client, count: 3)
            for tag in 0..<3 {
                #expect(try results[tag]?.get() == ["tag": .int(Int64(tag))])
            }
        }
    }

    @Test("a reply with an unknown id is dropped and the following reply still arrives")
    func unknownIDDropped() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            let command = try await server.expectCommand("query-status")
            try await server.send(message: ["return": ["wrong": true], "id": 987_654])
            try await server.send(message: ["return": ["wrong": true], "id": "not-ours"])
            try await server.send(message: ["error": ["class": "GenericError", "desc": "stray"], "id": 987_655])
            try await server.reply(to: command, with: ["status": "running"])
            let next = try await server.expectCommand("query-name")
            try await server.reply(to: next, with: ["name": "vm"])
            try await server.expectEOF()
        }) { client, server in
            try await client.connect(using: server.transport)
            #expect(try await client.execute("query-status") == ["status": "running"])
            #expect(try await client.execute("query-name") == ["name": "vm"])
            #expect(client.runState == .running)
        }
    }

    @Test("a command error gives commandFailed with QEMU's class and description; the session goes on")
    func commandError() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            let command = try await server.expectCommand("no-such-command")
            try await server.replyError(to: command, errorClass: "CommandNotFound", description: "The command no-such-command has not been found")
            let next = try await server.expectCommand("query-status")
            try await server.reply(to: next, with: ["status": "paused"])
        }) { client, server in
            try await client.connect(using: server.transport)
            let result = await Self.outcome { try await client.execute("no-such-command") }
            let error = try #require(result.failure as? QMPError)
            #expect(error == .commandFailed(QMPCommandError(
                command: "no-such-command", errorClass: "CommandNotFound",
                errorDescription: "The command no-such-command has not been found")))
            #expect(error.errorClass == "CommandNotFound")
            #expect(try await client.execute("query-status") == ["status": "paused"])
        }
    }

    // MARK: Protocol errors

    @Test("an error reply without id ends the session with protocolError for every pending call")
    func idlessErrorReply() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            for _ in 0..<3 { try await server.expectCommand("echo") }
            try await server.send(message: ["error": ["class": "GenericError", "desc": "JSON parse error, invalid keyword"]])
            // The client must hang up by itself.
            let late = try await server.expectEOF()
            server.check(late.isEmpty, "commands after the protocol error: \(late)")
            server.signal("eof")
        }) { client, server in
            let events = client.events()
            try await client.connect(using: server.transport)
            let results = await Self.concurrentEchoes(client, count: 3)
            #expect(results.count == 3)
            for (tag, result) in results {
                guard case .protocolError(let message)? = result.failure as? QMPError else {
                    Issue.record("echo \(tag): expected protocolError, got \(result)")
                    continue
                }
                #expect(message.contains("JSON parse error"))
            }
            #expect(await server.nextSignal() == "eof", "the client closes the connection itself")
            _ = await Self.drain(events)
            #expect(client.runState == .idle)
            let after = await Self.outcome { try await client.execute("echo") }
            guard case .invalidState? = after.failure as? QMPError else {
                Issue.record("expected invalidState after the session ended, got \(after)")
                return
            }
        }
    }

    @Test("a reply above maxMessageSize fails the pending call with protocolError and the client goes idle")
    func oversizeReply() async throws {
        let configuration = QMPClient.Configuration.forTests { $0.maxMessageSize = 64 << 10 }
        try await withFakeServer(configuration: configuration, script: { server in
            try server.greetAndNegotiate()
            let command = try server.expectCommand("query-big")
            let id = try server.id(of: command)
            let huge = #"{"return": ""# + String(repeating: "x", count: 1 << 20) + #"", "id": "# + id + "}\r\n"
            // The client hangs up part-way: the write may fail, which is expected.
            try? server.send(huge, chunkSize: 64 << 10)
            try server.expectEOF()
        }) { client, server in
            let events = client.events()
            try await client.connect(to: server.endpoint)
            let result = await Self.outcome { try await client.execute("query-big") }
            guard case .protocolError(let message)? = result.failure as? QMPError else {
                Issue.record("expected protocolError, got \(result)")
                return
            }
            #expect(message.contains("65536"), "the message names the limit: \(message)")
            _ = await Self.drain(events)
            #expect(client.runState == .idle)
        }
    }

    @Test("garbage instead of the greeting fails connect with protocolError")
    func garbageBeforeGreeting() async throws {
        try await withFakeServer(script: { server in
            try server.send("this is not JSON\r\n")
            try server.expectEOF()
            server.signal("eof")
        }) { client, server in
            let result = await Self.outcome {
                try await client.connect(to: server.endpoint)
                return .null
            }
            guard case .protocolError? = result.failure as? QMPError else {
                Issue.record("expected protocolError, got \(result)")
                return
            }
            #expect(await server.nextSignal() == "eof", "the client hangs up")
            #expect(client.runState != .running)
        }
    }

    @Test("garbage while a command is pending fails it with protocolError")
    func garbageAfterNegotiation() async throws {
        try await withFakeServer(script: { server in
            try server.greetAndNegotiate()
            try server.expectCommand("query-status")
            // A well-formed stray reply first, then the garbage.
            try server.send(#"{"return": {}, "id": 999}"# + "\r\n" + "}}]] not json\r\n")
            try server.expectEOF()
        }) { client, server in
            let events = client.events()
            try await client.connect(to: server.endpoint)
            let result = await Self.outcome { try await client.execute("query-status") }
            guard case .protocolError(let message)? = result.failure as? QMPError else {
                Issue.record("expected protocolError, got \(result)")
                return
            }
            #expect(message.contains("malformed"), "\(message)")
            _ = await Self.drain(events)
            #expect(client.runState == .idle)
        }
    }

    // MARK: The end of the connection

    @Test("a disconnect with 8 commands pending fails all 8 as interrupted and ends the events")
    func disconnectWithPending() async throws {
        // A long command timeout: a call that is not failed by the disconnect would time out instead.
        let configuration = QMPClient.Configuration.forTests { $0.commandTimeout = .seconds(60) }
        try await withInMemoryServer(configuration: configuration, script: { server in
            try await server.greetAndNegotiate()
            for _ in 0..<8 { try await server.expectCommand("echo") }
            try await server.event("LAST")
            server.close()
        }) { client, server in
            let events = client.events()
            try await client.connect(using: server.transport)
            let results = await Self.concurrentEchoes(client, count: 8)
            #expect(results.count == 8)
            for (tag, result) in results {
                guard case .interrupted(let command, _)? = result.failure as? QMPError else {
                    Issue.record("echo \(tag): expected interrupted, got \(result)")
                    continue
                }
                #expect(command == "echo")
            }
            let seen = await Self.drain(events)
            #expect(seen.map(\.name) == ["LAST"])
            #expect(client.runState == .idle)
        }
    }

    @Test("quit followed by the server hanging up without a reply counts as success")
    func quitWithoutReply() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            try await server.expectCommand("quit")
            server.close()
        }) { client, server in
            try await client.connect(using: server.transport)
            let value = try await client.execute("quit")
            #expect(value == [:])
        }
    }

    @Test("a server that hangs up before the greeting fails connect with negotiationFailed",
          arguments: ["", #"{"QMP": {"version": "#])
    func closedBeforeGreeting(partial: String) async throws {
        try await withFakeServer(script: { server in
            if !partial.isEmpty { try server.send(partial) }
            server.close()
        }) { client, server in
            let result = await Self.outcome {
                try await client.connect(to: server.endpoint)
                return .null
            }
            guard case .negotiationFailed? = result.failure as? QMPError else {
                Issue.record("expected negotiationFailed, got \(result)")
                return
            }
            #expect(client.runState != .running)
        }
    }

    // MARK: The in-band window

    @Test("commands beyond the 8th wait for replies: the server never sees more than 8 unanswered")
    func windowOfEight() async throws {
        let total = 20
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            var unanswered: [JSON] = []
            var received = 0
            var most = 0
            while received < total {
                unanswered.append(try await server.expectCommand("echo"))
                received += 1
                most = max(most, unanswered.count)
                server.check(unanswered.count <= 8, "\(unanswered.count) commands unanswered")
                if unanswered.count == 8, received < total {
                    // Nothing may arrive before a reply frees a slot.
                    let early = try await server.receivedAnything(within: 0.05)
                    server.check(!early, "a 9th command arrived before any reply")
                    // Answer alternately the oldest and the newest.
                    let command = unanswered.remove(at: received.isMultiple(of: 2) ? 0 : unanswered.count - 1)
                    try await server.reply(to: command, with: ["tag": Self.tag(command)])
                }
            }
            server.check(most == 8, "at most \(most) commands were in flight, expected 8")
            let extra = try await server.receivedAnything(within: 0.05)
            server.check(!extra, "more than \(total) commands")
            for command in unanswered.reversed() {
                try await server.reply(to: command, with: ["tag": Self.tag(command)])
            }
        }) { client, server in
            try await client.connect(using: server.transport)
            let results = await Self.concurrentEchoes(client, count: total)
            #expect(results.count == total)
            for tag in 0..<total {
                #expect(try results[tag]?.get() == ["tag": .int(Int64(tag))], "echo \(tag)")
            }
        }
    }

    @Test("cancelling a call frees its slot for a queued command; its late reply is dropped")
    func cancellationFreesSlot() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            let inFlight = try await server.expectCommands("echo", count: 8)
            let victim = inFlight[2]
            server.signal(Self.tag(victim))
            // No reply has been sent: the next command can only come through the slot the cancellation freed.
            let released = try await server.expectCommand("echo")
            server.check(!inFlight.map(Self.tag).contains(Self.tag(released)), "command sent twice: \(released)")
            // The late reply to the cancelled command, then the others' replies.
            try await server.reply(to: victim, with: ["tag": "LATE"])
            for command in (inFlight + [released]) where command != victim {
                try await server.reply(to: command, with: ["tag": Self.tag(command)])
            }
            let next = try await server.expectCommand("query-status")
            try await server.reply(to: next, with: ["status": "running"])
        }) { client, server in
            try await client.connect(using: server.transport)
            var tasks: [Int: Task<JSON, any Error>] = [:]
            for tag in 0..<9 {
                tasks[tag] = Task { try await client.execute("echo", arguments: ["tag": .int(Int64(tag))]) }
            }
            let victim = try #require(await server.nextSignal()?.int64Value)
            try #require(tasks[Int(victim)] != nil)
            tasks[Int(victim)]?.cancel()
            for (tag, task) in tasks.sorted(by: { $0.key < $1.key }) {
                let result = await task.result
                if tag == Int(victim) {
                    #expect(result.failure is CancellationError, "the cancelled call: \(result)")
                } else {
                    #expect(try result.get() == ["tag": .int(Int64(tag))], "echo \(tag)")
                }
            }
            #expect(try await client.execute("query-status") == ["status": "running"])
        }
    }

    @Test("a call whose reply never comes times out, and its slot is freed")
    func timeout() async throws {
        // One slot only: the second command can go out only if the timed-out one released it.
        let configuration = QMPClient.Configuration.forTests { $0.maxInFlight = 1 }
        try await withInMemoryServer(configuration: configuration, script: { server in
            try await server.greetAndNegotiate()
            let slow = try await server.expectCommand("slow")
            try await server.waitForTest()
            try await server.reply(to: slow, with: "late")
            let fast = try await server.expectCommand("fast")
            try await server.reply(to: fast, with: "fast")
        }) { client, server in
            try await client.connect(using: server.transport)
            let result = await Self.outcome { try await client.execute("slow", timeout: .milliseconds(200)) }
            #expect(result.failure as? QMPError == .timedOut(command: "slow", seconds: 0.2))
            server.proceed()
            #expect(try await client.execute("fast") == "fast")
        }
    }

    // MARK: Using the client

    @Test("close twice, and close concurrently, are fine")
    func closeTwice() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            try await server.expectEOF()
            server.signal("eof")
        }) { client, server in
            try await client.connect(using: server.transport)
            #expect(client.runState == .running)
            async let first: Void = client.close()
            async let second: Void = client.close()
            _ = await (first, second)
            await client.close()
            #expect(client.runState == .idle)
            #expect(await server.nextSignal() == "eof")
            let after = await Self.outcome { try await client.execute("query-status") }
            guard case .invalidState? = after.failure as? QMPError else {
                Issue.record("expected invalidState after close, got \(after)")
                return
            }
        }
    }

    @Test("execute before connect fails with invalidState; close before connect is fine")
    func executeBeforeConnect() async throws {
        let client = QMPClient(configuration: .forTests())
        let result = await Self.outcome { try await client.execute("query-status", timeout: .milliseconds(500)) }
        guard case .invalidState? = result.failure as? QMPError else {
            Issue.record("expected invalidState, got \(result)")
            return
        }
        await client.close()
        #expect(client.runState == .idle)
    }

    @Test("a server that greets but never answers qmp_capabilities fails connect within connectTimeout")
    func silentNegotiation() async throws {
        let configuration = QMPClient.Configuration.forTests { $0.connectTimeout = .milliseconds(300) }
        try await withInMemoryServer(configuration: configuration, script: { server in
            try await server.greet()
            try await server.expectCommand("qmp_capabilities")
            try await server.expectEOF()
            server.signal("eof")
        }) { client, server in
            let result = await Self.outcome {
                try await client.connect(using: server.transport)
                return .null
            }
            guard case .negotiationFailed? = result.failure as? QMPError else {
                Issue.record("expected negotiationFailed, got \(result)")
                return
            }
            #expect(await server.nextSignal() == "eof", "the client hangs up")
            #expect(client.runState == .idle)
        }
    }

    @Test("a server that never greets fails connect within connectTimeout")
    func silentServer() async throws {
        let configuration = QMPClient.Configuration.forTests { $0.connectTimeout = .milliseconds(300) }
        try await withInMemoryServer(configuration: configuration, script: { server in
            try await server.expectEOF()
        }) { client, server in
            let connecting = Task { try await client.connect(using: server.transport) }
            guard let result = await Self.result(of: connecting, orGiveUpAfter: .seconds(30)) else {
                Issue.record("connect() did not return after its connectTimeout")
                return
            }
            guard case .negotiationFailed? = result.failure as? QMPError else {
                Issue.record("expected negotiationFailed, got \(result)")
                return
            }
        }
    }

    @Test("close() while connect() waits for the greeting makes connect() fail")
    func closeWhileAwaitingGreeting() async throws {
        try await withInMemoryServer(script: { server in
            try await server.expectEOF()
            server.signal("eof")
        }) { client, server in
            let connecting = Task { try await client.connect(using: server.transport) }
            while client.runState != .connecting { try await Task.sleep(for: .milliseconds(1)) }
            await client.close()
            #expect(await server.nextSignal() == "eof")
            guard let result = await Self.result(of: connecting, orGiveUpAfter: .seconds(5)) else {
                Issue.record("connect() never returned after close()")
                return
            }
            guard case .negotiationFailed? = result.failure as? QMPError else {
                Issue.record("expected negotiationFailed, got \(result)")
                return
            }
            #expect(client.runState == .idle)
        }
    }

    @Test("the client can connect again after a session ended")
    func reconnect() async throws {
        let client = QMPClient(configuration: .forTests())
        for round in 0..<2 {
            let server = InMemoryQMPServer { server in
                try await server.greetAndNegotiate()
                let command = try await server.expectCommand("query-status")
                try await server.reply(to: command, with: ["round": .int(Int64(round))])
                try await server.event("BYE")
                server.close()
            }
            let events = client.events()
            try await client.connect(using: server.transport)
            #expect(try await client.execute("query-status") == ["round": .int(Int64(round))])
            #expect(await Self.drain(events).map(\.name) == ["BYE"])
            #expect(client.runState == .idle)
            for failure in await server.finish() { Issue.record("fake server, round \(round): \(failure)") }
        }
        await client.close()
    }

    @Test("a call from an already-cancelled task fails with CancellationError and is never sent")
    func cancelledBeforeExecute() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            // The first command the server sees must be the one after the cancelled call.
            let command = try await server.expectCommand("after")
            try await server.reply(to: command, with: "ok")
            try await server.expectEOF()
        }) { client, server in
            try await client.connect(using: server.transport)
            let gate = FakeMailbox<Bool>()
            let cancelled = Task {
                _ = await gate.take()
                return try await client.execute("cancelled")
            }
            cancelled.cancel()
            gate.put(true)
            #expect(await cancelled.result.failure is CancellationError)
            #expect(try await client.execute("after") == "ok")
        }
    }

    @Test("an event flood is delivered in order, and replies behind it and after it still arrive")
    func eventFlood() async throws {
        let count = 3000
        try await withFakeServer(script: { server in
            try server.greetAndNegotiate()
            let command = try server.expectCommand("query-status")
            var text = ""
            for n in 0..<count {
                text += server.eventMessage("TICK", data: ["n": .int(Int64(n)), "pad": .string(String(repeating: "p", count: 100))]).serialized() + "\r\n"
            }
            try server.send(text + server.replyMessage(to: command, with: "after-flood").serialized() + "\r\n")
            // Reading must have resumed for good: a later, separate reply still gets through.
            let next = try server.expectCommand("query-name")
            try server.reply(to: next, with: "later")
            try server.expectEOF()
        }) { client, server in
            let events = client.events(bufferSize: count + 10)
            try await client.connect(to: server.endpoint)
            #expect(try await client.execute("query-status") == "after-flood")
            #expect(try await client.execute("query-name") == "later")
            await client.close()
            let seen = await Self.drain(events)
            #expect(seen.count == count)
            #expect(seen.map { $0.data["n"]?.int64Value } == (0..<count).map { Int64($0) })
            #expect(client.droppedEventCount == 0)
        }
    }

    @Test("negotiation asks for OOB only when the server offers it and the client enables it",
          arguments: [(true, true), (true, false), (false, true)])
    func negotiationOOB(offered: Bool, enabled: Bool) async throws {
        let configuration = QMPClient.Configuration.forTests { $0.enableOOB = enabled }
        try await withInMemoryServer(configuration: configuration, script: { server in
            let greeting = offered ? InMemoryQMPServer.greeting : InMemoryQMPServer.greeting.replacingOccurrences(of: #"["oob"]"#, with: "[]")
            try await server.send(greeting)
            let capabilities = try await server.acceptNegotiation()
            server.signal(capabilities)
            try await server.expectEOF()
        }) { client, server in
            try await client.connect(using: server.transport)
            let capabilities = try #require(await server.nextSignal())
            if offered && enabled {
                #expect(capabilities["arguments"] == ["enable": ["oob"]])
            } else {
                #expect(capabilities["arguments"] == nil, "\(capabilities)")
            }
            #expect(client.greeting?.capabilities == (offered ? ["oob"] : []))
        }
    }

    @Test("an out-of-band command goes out while 8 in-band commands are pending and a 9th is queued")
    func outOfBandBypassesWindow() async throws {
        try await withInMemoryServer(script: { server in
            try await server.greetAndNegotiate()
            let inBand = try await server.expectCommands("echo", count: 8)
            server.signal("eight")
            // Nothing answered yet: only an out-of-band command may arrive now.
            let oob = try await server.expectCommand("migrate-pause")
            server.check(oob["exec-oob"] == "migrate-pause" && oob["execute"] == nil, "not sent out-of-band: \(oob)")
            try await server.reply(to: oob, with: "oob")
            // Its reply must not release the queued in-band command.
            let early = try await server.receivedAnything(within: 0.05)
            server.check(!early, "an in-band command was released by an out-of-band reply")
            for command in inBand { try await server.reply(to: command, with: ["tag": Self.tag(command)]) }
            let ninth = try await server.expectCommand("echo")
            try await server.reply(to: ninth, with: ["tag": Self.tag(ninth)])
        }) { client, server in
            try await client.connect(using: server.transport)
            async let echoes = Self.concurrentEchoes(client, count: 9)
            // Once the server holds eight unanswered echoes, the out-of-band command must still get through.
            #expect(await server.nextSignal() == "eight")
            let oob = try await client.execute(QMPCommand("migrate-pause", outOfBand: true))
            #expect(oob == "oob")
            let results = await echoes
            for tag in 0..<9 {
                #expect(try results[tag]?.get() == ["tag": .int(Int64(tag))], "echo \(tag)")
            }
        }
    }

    // MARK: Events

    @Test("event timestamps: -1/-1 is unknown, a real one is kept, a missing one is unknown")
    func eventTimestamps() async throws {
        try await withFakeServer(script: { server in
            try server.greetAndNegotiate()
            try server.event("UNKNOWN_TIME", seconds: -1, microseconds: -1)
            try server.event("KNOWN_TIME", data: ["reason": "x"], seconds: 1_234, microseconds: 567)
            try server.send(message: ["event": "NO_TIME"])
            server.close()
        }) { client, server in
            let events = client.events()
            try await client.connect(to: server.endpoint)
            let seen = await Self.drain(events)
            #expect(seen.map(\.name) == ["UNKNOWN_TIME", "KNOWN_TIME", "NO_TIME"])
            guard seen.count == 3 else { return }
            #expect(seen[0].timestamp == .unknown)
            #expect(!seen[0].timestamp.isKnown)
            #expect(seen[1].timestamp == QMPTimestamp(seconds: 1_234, microseconds: 567))
            #expect(seen[1].timestamp.isKnown)
            #expect(seen[1].data == ["reason": "x"])
            #expect(seen[2].timestamp == .unknown)
            #expect(seen[2].data == .object([:]))
        }
    }

    @Test("a full subscriber buffer drops the oldest events and counts them")
    func subscriberOverflow() async throws {
        try await withFakeServer(script: { server in
            try server.greetAndNegotiate()
            for n in 0..<50 { try server.event("TICK", data: ["n": .int(Int64(n))]) }
            server.close()
        }) { client, server in
            let slow = client.events(bufferSize: 10)
            let fast = client.events()
            try await client.connect(to: server.endpoint)
            // The fast subscriber ends when the connection does: by then every event was offered to both.
            let everything = await Self.drain(fast)
            #expect(everything.map { $0.data["n"]?.int64Value } == (0..<50).map { Int64($0) })
            let kept = await Self.drain(slow)
            #expect(kept.map { $0.data["n"]?.int64Value } == (40..<50).map { Int64($0) })
            #expect(client.droppedEventCount == 40)
        }
    }
}

extension Result {
    /// The error, when this is a failure.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
