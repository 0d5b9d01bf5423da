import FaultInjection
import Foundation
import Testing
@testable import QMP

/// The client against a scripted server that misbehaves: closes early, sends garbage, a 100 MB line, a flood of
/// events. Each fault must end in a typed error (or in every reply delivered), promptly, with memory bounded.
struct FaultTests {
    /// A client whose own timeouts end every call even if the code under test misbehaves.
    static func client(timeout: Duration = .seconds(20)) -> QMPClient {
        var configuration = QMPClient.Configuration()
        configuration.connectTimeout = timeout
        configuration.commandTimeout = timeout
        return QMPClient(configuration: configuration)
    }

    /// Runs `body` alone in a child copy of the test binary (see ``IsolatedTest``) and expects it to pass there.
    static func alone(_ name: String, timeout: Duration = .seconds(180), _ body: () async throws -> Void) async throws {
        guard let outcome = try await IsolatedTest.run("FaultTests.\(name)", filter: "QMPTests.FaultTests/\(name)\\(",
                                                       timeout: timeout, here: body) else { return }
        #expect(IsolatedTest.passed(outcome), "the test failed alone: \(outcome)")
    }

    @Test("the monitor closes before the greeting: negotiationFailed, without hanging")
    func closesBeforeGreeting() async throws {
        try await Self.alone("closesBeforeGreeting") {
            let server = try FaultServer()
            server.start { connection in connection.close() }
            let client = Self.client()
            let start = ContinuousClock.now
            let error = await #expect(throws: QMPError.self) { try await client.connect(using: SocketTransport(server.endpoint)) }
            let elapsed = ContinuousClock.now - start
            print("closed before the greeting: \(error.map(String.init(describing:)) ?? "no error") after \(elapsed)")
            guard case .negotiationFailed(let message) = error else {
                Issue.record("expected negotiationFailed, got \(String(describing: error))")
                return
            }
            #expect(message.contains("before the greeting"))
            #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: failed after \(elapsed) (expected at once)")
            #expect(client.runState == .idle)
            await client.close()
            #expect(await server.waitUntilDone() == nil)
        }
    }

    @Test("garbage instead of a greeting: protocolError naming malformed JSON, without hanging")
    func garbageBeforeGreeting() async throws {
        try await Self.alone("garbageBeforeGreeting") {
            let server = try FaultServer()
            server.start { connection in
                connection.send([0xFF, 0xFE, 0x00, 0x1B] + Array("[0mSSH-2.0-OpenSSH\r\n".utf8))
                _ = connection.readMessage()  // hold the connection open until the client closes it
            }
            let client = Self.client()
            let start = ContinuousClock.now
            let error = await #expect(throws: QMPError.self) { try await client.connect(using: SocketTransport(server.endpoint)) }
            let elapsed = ContinuousClock.now - start
            print("garbage before the greeting: \(error.map(String.init(describing:)) ?? "no error") after \(elapsed)")
            guard case .protocolError(let message) = error else {
                Issue.record("expected protocolError, got \(String(describing: error))")
                return
            }
            #expect(message.contains("malformed JSON"))
            #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: failed after \(elapsed) (expected at once)")
            await client.close()
            #expect(await server.waitUntilDone() == nil)
        }
    }

    @Test("garbage in the middle of a session: every pending command fails with protocolError, the session ends")
    func garbageMidSession() async throws {
        try await Self.alone("garbageMidSession") {
            let server = try FaultServer()
            server.start { connection in
                guard connection.greetAndNegotiate() else { throw FaultError("no negotiation") }
                // Wait for three commands, answer the first, then the second and garbage in one write.
                let commands = [connection.readMessage(), connection.readMessage(), connection.readMessage()].compactMap { $0 }
                guard let first = commands.first(where: { $0["execute"] == "query-1" }),
                      let second = commands.first(where: { $0["execute"] == "query-2" }), commands.count == 3 else {
                    throw FaultError("the commands did not arrive: \(commands)")
                }
                connection.reply(to: first, with: ["ok": true])
                connection.send("{\"return\": {}, \"id\": \(second["id"]?.serialized() ?? "null")}garbage\u{7}{\"return\"")
                _ = connection.readMessage()
            }
            let client = Self.client()
            try await client.connect(using: SocketTransport(server.endpoint))
            let start = ContinuousClock.now
            let results = await withTaskGroup(of: (Int, Result<JSON, any Error>).self) { group in
                for index in 1...3 {
                    group.addTask {
                        do { return (index, .success(try await client.execute("query-\(index)"))) } catch { return (index, .failure(error)) }
                    }
                    }
                var collected: [Int: Result<JSON, any Error>] = [:]
                for await (index, result) in group { collected[index] = result }
                return collected
            }
            let elapsed = ContinuousClock.now - start
            print("garbage mid-session: \(results.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }) after \(elapsed)")
            #expect(try results[1]?.get() == ["ok": true])
            #expect(try results[2]?.get() == .object([:]))  // the complete reply before the garbage still counts
            guard case .failure(let error)? = results[3], case QMPError.protocolError(let message) = error else {
                Issue.record("expected protocolError for the third command, got \(String(describing: results[3]))")
                return
            }
            #expect(message.contains("malformed JSON"))
            #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: the calls ended after \(elapsed) (expected at once)")
            #expect(await ProcessInspection.poll(timeout: .seconds(5)) { client.runState == .idle ? true : nil } == true)
            await client.close()
            #expect(await server.waitUntilDone() == nil)
        }
    }

    @Test("split reads give what one read gives, numbers split in the middle included (fuzzer finding)")
    func splitReads() throws {
        // A few kilobytes of real sessions as QEMU sent them: their small messages, CRLF-terminated.
        var stream: [UInt8] = []
        for file in ["qemu-7.2-x86_64-tcg.jsonl", "qemu-7.2-x86_64-kvm.jsonl", "cpu-7.2-x86_64-kvm-haswell-notsx.jsonl",
                     "qemu-7.2-s390x-tcg.jsonl", "qemu-7.2-aarch64-tcg.jsonl"] {
            let session = try #require(FileManager.default.contents(atPath: TestPaths.recordedSessions + "/" + file))
            for line in session.split(separator: 0x0A).dropFirst() {
                let json = try JSON.parse(Array(line))
                guard json["dir"]?.stringValue == "in", let message = json["msg"]?.serializedBytes(),
                      stream.count + message.count < 1536 else { continue }
                stream += message + [0x0D, 0x0A]
            }
        }
        stream = Array(#"{"return": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "x": [1.5e-3, -0.25, 18446744073709551615]}, "id": 1}"#.utf8) + [0x0D, 0x0A] + stream
        // Any error is kept as it is: a failure of another type must not read as "no error".
        func decode(_ bytes: [UInt8], splitAt cut: Int?) -> (messages: [JSON], error: (any Error)?) {
            let parser = JSONStreamParser()
            var messages: [JSON] = []
            do {
                for part in cut.map({ [Array(bytes[..<$0]), Array(bytes[$0...])] }) ?? [bytes] {
                    try parser.feed(part) { json, _ in messages.append(json) }
                }
                return (messages, nil)
            } catch {
                return (messages, error)
            }
        }
        let whole = decode(stream, splitAt: nil)
        #expect(whole.messages.count > 5 && whole.error == nil, "\(String(describing: whole.error))")
        for cut in 1..<stream.count {
            let split = decode(stream, splitAt: cut)
            #expect(split.messages == whole.messages && split.error == nil, "split at byte \(cut): \(String(describing: split.error))")
            if split.messages != whole.messages { break }
        }
        // json-c alone accepts `44-` when `44` and `-}` come in two reads: the parser must not.
        let bad = Array(#"{"a":44-}"#.utf8)
        for cut in 1..<bad.count {
            let split = decode(bad, splitAt: cut)
            #expect(split.messages.isEmpty, "split at byte \(cut): \(split.messages)")
            if case .malformed? = split.error as? JSONStreamError {} else { Issue.record("split at byte \(cut): \(String(describing: split.error))") }
        }
    }

    // MARK: Memory: each scenario runs alone in a child copy of this test binary, which measures itself

    @Test("a 100 MB line: protocolError at the 10 MiB limit, and memory stays well below 100 MB")
    func hugeLine() async throws {
        try await Self.alone("hugeLine") {
            let baseline = ProcessInspection.memoryKiB().rss
            #expect(baseline > 0, "cannot read VmRSS")
            let server = try FaultServer()
            server.start { connection in
                guard connection.greetAndNegotiate(), connection.readMessage() != nil else { throw FaultError("no command") }
                // 100 MB of one string, never terminated; the client must give up at its 10 MiB limit and close.
                if connection.sendUnterminatedReply(size: 100 << 20) { throw FaultError("the client read 100 MB without failing") }
            }
            let client = Self.client()
            try await client.connect(using: SocketTransport(server.endpoint))
            let start = ContinuousClock.now
            let error = await #expect(throws: QMPError.self) { try await client.execute("query-huge") }
            let elapsed = ContinuousClock.now - start
            let memory = ProcessInspection.memoryKiB()
            print("huge line: \(error.map(String.init(describing:)) ?? "no error") after \(elapsed)")
            print("rss_baseline_kib=\(baseline) rss_peak_kib=\(memory.peak) rss_growth_kib=\(memory.peak - baseline)")
            guard case .protocolError(let message) = error else {
                Issue.record("expected protocolError, got \(String(describing: error))")
                return
            }
            #expect(message.contains("larger than the limit of 10485760 bytes"))
            #expect(memory.peak - baseline < 60 * 1024, "the client's memory grew by \(memory.peak - baseline) KiB for a 100 MB line")
            #expect(elapsed < NoHang.bound(expected: .seconds(1)), "no hang: failed after \(elapsed) (expected within a second: 10 MiB read)")
            await client.close()
            #expect(await server.waitUntilDone() == nil)
        }
    }

    @Test("100,000 events while 1,000 commands are pipelined: every reply reaches its caller, memory stays bounded")
    func eventFlood() async throws {
        try await Self.alone("eventFlood") {
            let commands = 1_000
            let eventsPerCommand = 100
            let baseline = ProcessInspection.memoryKiB().rss
            #expect(baseline > 0, "cannot read VmRSS")
            let server = try FaultServer()
            server.start(ioTimeout: 60) { connection in
                guard connection.greetAndNegotiate() else { throw FaultError("no negotiation") }
                let payload = String(repeating: "x", count: 1000)
                var sequence = 0
                for _ in 0..<commands {
                    guard let command = connection.readMessage() else { throw FaultError("a command did not arrive") }
                    var burst: [UInt8] = []
                    for _ in 0..<eventsPerCommand {
                        sequence += 1
                        burst += Array(#"{"event": "FLOOD", "data": {"n": \#(sequence), "payload": "\#(payload)"}, "timestamp": {"seconds": 1, "microseconds": 2}}"#.utf8) + [0x0D, 0x0A]
                    }
                    guard connection.send(burst) else { throw FaultError("the client went away") }
                    guard connection.reply(to: command, with: ["n": command["arguments"]?["n"] ?? .null]) else {
                        throw FaultError("the client went away")
                    }
                }
            }
            var configuration = QMPClient.Configuration()
            configuration.commandTimeout = .seconds(120)
            let client = QMPClient(configuration: configuration)
            // One subscriber that never reads (its buffer must stay at its size) and one that counts.
            let idle = client.events(bufferSize: 1024)
            let counted = client.events(bufferSize: 1024)
            try await client.connect(using: SocketTransport(server.endpoint))
            let counter = Task {
                var count = 0
                var last = 0
                for await event in counted {
                    count += 1
                    last = Int(event.data["n"]?.int64Value ?? 0)
                }
                return (count, last)
            }
            let start = ContinuousClock.now
            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<commands {
                    group.addTask {
                        let reply = try await client.execute("query-echo", arguments: ["n": .int(Int64(index))])
                        return reply["n"]?.int64Value == Int64(index) ? 0 : 1
                    }
                }
                return try await group.reduce(0, +)
            }
            let elapsed = ContinuousClock.now - start
            let memory = ProcessInspection.memoryKiB()
            #expect(await server.waitUntilDone(timeout: 60) == nil)
            await client.close()
            let (count, last) = await counter.value
            _ = idle
            print("flood: \(commands) replies in \(elapsed), \(mismatches) mismatched; the counting subscriber saw \(count) events (last n=\(last)), \(client.droppedEventCount) dropped in all")
            print("rss_baseline_kib=\(baseline) rss_peak_kib=\(memory.peak) rss_growth_kib=\(memory.peak - baseline)")
            #expect(mismatches == 0)
            #expect(last == commands * eventsPerCommand, "the newest event must always be delivered")
            // The idle subscriber keeps at most its 1,024 newest events: the rest are dropped and counted.
            #expect(client.droppedEventCount >= commands * eventsPerCommand - 1024)
            // 100,000 events of 1 KiB are 100 MB: an unbounded client would hold them all.
            #expect(memory.peak - baseline < 50 * 1024, "the client's memory grew by \(memory.peak - baseline) KiB during the flood")
        }
    }
}
