import Testing

@testable import QMP

/// `QMPStateMachine` driven directly with plain integer tokens: no sockets, no tasks.
@Suite("QMPStateMachine")
struct StateMachineTests {
    typealias Machine = QMPStateMachine<Int>
    typealias Effects = Machine.Effects

    // MARK: Helpers

    static let greetingJSON: JSON = [
        "QMP": [
            "version": ["qemu": ["micro": 22, "minor": 2, "major": 7], "package": "fake"],
            "capabilities": ["oob"],
        ],
    ]

    /// The commands an input asked to send, parsed back (each must be CRLF-terminated compact JSON).
    static func sent(_ effects: Effects, sourceLocation: SourceLocation = #_sourceLocation) throws -> [JSON] {
        try effects.sends.map { bytes in
            #expect(bytes.suffix(2) == [0x0D, 0x0A], "a command must end with CRLF", sourceLocation: sourceLocation)
            let body = bytes.dropLast(2)
            #expect(!body.contains(0x0A) && !body.contains(0x0D), "a command must be one line", sourceLocation: sourceLocation)
            return try JSON.parse(Array(body))
        }
    }

    /// The ids of the commands an input asked to send.
    static func sentIDs(_ effects: Effects) throws -> [Int64] {
        try sent(effects).map { try #require($0["id"]?.int64Value) }
    }

    /// The tokens completed successfully and their values.
    static func successes(_ effects: Effects) -> [(Int, JSON)] {
        effects.completions.compactMap { token, result in
            if case .success(let value) = result { return (token, value) }
            return nil
        }
    }

    /// The tokens completed with a failure and their errors.
    static func failures(_ effects: Effects) -> [(Int, any Error)] {
        effects.completions.compactMap { token, result in
            if case .failure(let error) = result { return (token, error) }
            return nil
        }
    }

    static func reply(_ id: Int64, _ value: JSON = [:]) -> JSON {
        ["return": value, "id": .int(id)]
    }

    /// A machine past the greeting, negotiating (the greeting token was 0).
    static func negotiating(maxInFlight: Int = 8) throws -> Machine {
        var machine = Machine(maxInFlight: maxInFlight)
        try machine.connected(greetingToken: 0)
        let effects = machine.received(greetingJSON)
        #expect(successes(effects).map(\.0) == [0])
        return machine
    }

    /// A machine that negotiated (tokens 0 and 1 were used for the greeting and `qmp_capabilities`).
    static func running(maxInFlight: Int = 8) throws -> Machine {
        var machine = try negotiating(maxInFlight: maxInFlight)
        let id = machine.reserveID()
        let sent = try sentIDs(machine.submit(QMPCommand("qmp_capabilities"), id: id, token: 1))
        #expect(sent == [id])
        let done = machine.received(reply(id))
        #expect(successes(done).map(\.0) == [1])
        machine.negotiated()
        #expect(machine.runState == .running)
        return machine
    }

    /// Submits `name` under a fresh id with `token`; returns the id and the effects.
    static func submit(_ machine: inout Machine, _ name: String, token: Int, outOfBand: Bool = false) -> (Int64, Effects) {
        let id = machine.reserveID()
        return (id, machine.submit(QMPCommand(name, outOfBand: outOfBand), id: id, token: token))
    }

    // MARK: Connecting

    @Test("greeting, then negotiating, then running")
    func connectSequence() throws {
        var machine = Machine()
        #expect(machine.runState == .idle)
        #expect(machine.greeting == nil)
        try machine.connected(greetingToken: 100)
        #expect(machine.runState == .connecting)
        #expect(machine.greeting == nil)
        // Connecting twice is refused.
        #expect(throws: QMPError.self) { try machine.connected(greetingToken: 101) }

        let greeted = machine.received(Self.greetingJSON)
        let completed = Self.successes(greeted)
        #expect(completed.count == 1)
        #expect(completed.first?.0 == 100)
        #expect(completed.first?.1 == Self.greetingJSON["QMP"])
        #expect(greeted.sends.isEmpty && greeted.events.isEmpty && !greeted.closeConnection)
        #expect(machine.runState == .connecting)
        let greeting = try #require(machine.greeting)
        #expect(greeting.version == QEMUVersion(major: 7, minor: 2, micro: 22, package: "fake"))
        #expect(greeting.capabilities == ["oob"])

        // Only qmp_capabilities may be sent while negotiating.
        let (_, early) = Self.submit(&machine, "query-status", token: 102)
        #expect(early.sends.isEmpty)
        let earlyError = try #require(Self.failures(early).first?.1 as? QMPError)
        guard case .invalidState = earlyError else {
            Issue.record("expected invalidState, got \(earlyError)")
            return
        }

        let (capID, capabilities) = Self.submit(&machine, "qmp_capabilities", token: 103)
        let sent = try Self.sent(capabilities)
        #expect(sent == [["execute": "qmp_capabilities", "id": .int(capID)]])
        #expect(capabilities.completions.isEmpty)
        let done = machine.received(Self.reply(capID))
        #expect(Self.successes(done).map(\.0) == [103])
        #expect(machine.runState == .connecting, "running only once the client says negotiated()")
        machine.negotiated()
        #expect(machine.runState == .running)
        #expect(machine.greeting == greeting)
    }

    @Test("a second greeting is a protocol error")
    func secondGreeting() throws {
        var machine = try Self.running()
        let (_, sent) = Self.submit(&machine, "query-status", token: 5)
        #expect(sent.sends.count == 1)
        let effects = machine.received(Self.greetingJSON)
        #expect(effects.closeConnection)
        let failed = Self.failures(effects)
        #expect(failed.map(\.0) == [5])
        guard case .protocolError? = failed.first?.1 as? QMPError else {
            Issue.record("expected protocolError, got \(String(describing: failed.first?.1))")
            return
        }
    }

    @Test("a command submitted while idle fails with invalidState")
    func submitWhileIdle() throws {
        var machine = Machine()
        let (_, effects) = Self.submit(&machine, "query-status", token: 7)
        #expect(effects.sends.isEmpty)
        let failed = Self.failures(effects)
        #expect(failed.map(\.0) == [7])
        guard case .invalidState? = failed.first?.1 as? QMPError else {
            Issue.record("expected invalidState, got \(String(describing: failed.first?.1))")
            return
        }
        #expect(machine.outstanding == 0)
        // Also while waiting for the greeting.
        try machine.connected(greetingToken: 8)
        let (_, waiting) = Self.submit(&machine, "qmp_capabilities", token: 9)
        #expect(waiting.sends.isEmpty)
        guard case .invalidState? = Self.failures(waiting).first?.1 as? QMPError else {
            Issue.record("expected invalidState before the greeting")
            return
        }
    }

    // MARK: Ids and matching

    @Test("ids are unique and increasing, and each command carries its id")
    func idsIncrease() throws {
        var machine = try Self.running()
        var ids: [Int64] = []
        for token in 10..<15 {
            let (id, effects) = Self.submit(&machine, "query-status", token: token)
            ids.append(id)
            #expect(try Self.sentIDs(effects) == [id])
        }
        let reserved = (0..<5).map { _ in machine.reserveID() }
        let all = ids + reserved
        #expect(Set(all).count == all.count)
        #expect(all == all.sorted())
        #expect(zip(all, all.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("replies are matched by id, not by order")
    func outOfOrderReplies() throws {
        var machine = try Self.running()
        let (a, _) = Self.submit(&machine, "a", token: 10)
        let (b, _) = Self.submit(&machine, "b", token: 11)
        let (c, _) = Self.submit(&machine, "c", token: 12)
        #expect(machine.pending.count == 3)

        let third = machine.received(Self.reply(c, "C"))
        #expect(Self.successes(third).map { $0.0 } == [12])
        #expect(Self.successes(third).map { $0.1 } == ["C"])
        let first = machine.received(Self.reply(a, "A"))
        #expect(Self.successes(first).map { $0.0 } == [10])
        #expect(Self.successes(first).map { $0.1 } == ["A"])
        let second = machine.received(["error": ["class": "GenericError", "desc": "nope"], "id": .int(b)])
        let failed = Self.failures(second)
        #expect(failed.map(\.0) == [11])
        #expect(failed.first?.1 as? QMPError
            == .commandFailed(QMPCommandError(command: "b", errorClass: "GenericError", errorDescription: "nope")))
        #expect(machine.pending.isEmpty)
        #expect(machine.inFlight == 0)
    }

    @Test("a reply with an unknown id is dropped with a notice")
    func unknownID() throws {
        var machine = try Self.running()
        let (id, _) = Self.submit(&machine, "a", token: 10)
        for stray: JSON in [Self.reply(id + 1000), ["return": [:], "id": "text-id"], ["return": [:]],
                            ["error": ["class": "GenericError", "desc": "x"], "id": .int(id + 1000)]] {
            let effects = machine.received(stray)
            #expect(effects.completions.isEmpty, "\(stray)")
            #expect(effects.notices.count == 1, "\(stray)")
            #expect(effects.notices.first?.contains("unknown id") == true)
            #expect(!effects.closeConnection)
        }
        #expect(machine.runState == .running)
        #expect(machine.pending.keys.sorted() == [id])
        let done = machine.received(Self.reply(id, 42))
        #expect(Self.successes(done).map(\.0) == [10])
        #expect(Self.successes(done).map(\.1) == [42])
    }

    // MARK: The in-band window

    @Test("at most 8 in-band commands in flight; each reply sends exactly one queued command, in order")
    func window() throws {
        var machine = try Self.running()
        var ids: [Int64] = []
        for token in 0..<12 {
            let (id, effects) = Self.submit(&machine, "cmd\(token)", token: 100 + token)
            ids.append(id)
            if token < 8 {
                #expect(try Self.sentIDs(effects) == [id], "command \(token) goes out at once")
            } else {
                #expect(effects.sends.isEmpty, "command \(token) must be queued")
                #expect(effects.completions.isEmpty)
            }
        }
        #expect(machine.inFlight == 8)
        #expect(machine.pending.count == 8)
        #expect(machine.outstanding == 12)

        // Replies in a scrambled order; queued commands leave in submission order, one per reply.
        let replyOrder = [ids[3], ids[0], ids[7], ids[5]]
        for (step, answered) in replyOrder.enumerated() {
            let effects = machine.received(Self.reply(answered))
            #expect(Self.successes(effects).count == 1)
            #expect(try Self.sentIDs(effects) == [ids[8 + step]])
            #expect(try Self.sent(effects).first?["execute"] == .string("cmd\(8 + step)"))
            #expect(machine.inFlight == 8)
        }
        #expect(machine.outstanding == 8)
        // No more queued: replies just free slots.
        let effects = machine.received(Self.reply(ids[1]))
        #expect(effects.sends.isEmpty)
        #expect(machine.inFlight == 7)
        // A new command takes the free slot at once.
        let (next, nextEffects) = Self.submit(&machine, "late", token: 200)
        #expect(try Self.sentIDs(nextEffects) == [next])
        #expect(machine.inFlight == 8)
    }

    @Test("a smaller window is honoured", arguments: [1, 3])
    func smallerWindow(maxInFlight: Int) throws {
        var machine = try Self.running(maxInFlight: maxInFlight)
        var sent: [Int64] = []
        var ids: [Int64] = []
        for token in 0..<(maxInFlight + 2) {
            let (id, effects) = Self.submit(&machine, "c", token: token)
            ids.append(id)
            sent += try Self.sentIDs(effects)
        }
        #expect(sent == Array(ids.prefix(maxInFlight)))
        let effects = machine.received(Self.reply(ids[0]))
        #expect(try Self.sentIDs(effects) == [ids[maxInFlight]])
    }

    @Test("out-of-band commands bypass the window")
    func outOfBandBypassesWindow() throws {
        var machine = try Self.running()
        var ids: [Int64] = []
        for token in 0..<9 {
            ids.append(Self.submit(&machine, "c", token: token).0)
        }
        #expect(machine.inFlight == 8)
        let (oob, oobEffects) = Self.submit(&machine, "migrate-pause", token: 50, outOfBand: true)
        let sent = try Self.sent(oobEffects)
        #expect(sent == [["exec-oob": "migrate-pause", "id": .int(oob)]])
        #expect(machine.inFlight == 8, "an OOB command does not take an in-band slot")
        // Its reply completes it without releasing the queued in-band command.
        let done = machine.received(Self.reply(oob))
        #expect(Self.successes(done).map(\.0) == [50])
        #expect(done.sends.isEmpty)
        #expect(machine.inFlight == 8)
        // An in-band reply does release it.
        let released = machine.received(Self.reply(ids[2]))
        #expect(try Self.sentIDs(released) == [ids[8]])
    }

    // MARK: Errors ending the session

    @Test("an error reply without id fails every pending and queued request with protocolError")
    func idlessErrorReply() throws {
        var machine = try Self.running()
        for token in 0..<10 { _ = Self.submit(&machine, "c", token: token) }
        _ = Self.submit(&machine, "oob", token: 10, outOfBand: true)
        let effects = machine.received(["error": ["class": "GenericError", "desc": "JSON parse error"]])
        #expect(effects.closeConnection)
        #expect(effects.sends.isEmpty)
        let failed = Self.failures(effects)
        #expect(failed.map(\.0).sorted() == Array(0...10))
        #expect(Self.successes(effects).isEmpty)
        for (token, error) in failed {
            guard case .protocolError(let message)? = error as? QMPError else {
                Issue.record("token \(token): expected protocolError, got \(error)")
                continue
            }
            #expect(message.contains("JSON parse error"))
        }
        #expect(machine.outstanding == 0)
        #expect(machine.inFlight == 0)
        #expect(machine.runState == .disconnecting)
    }

    @Test("an id-less error reply during negotiation fails qmp_capabilities")
    func idlessErrorDuringNegotiation() throws {
        var machine = try Self.negotiating()
        let (_, _) = Self.submit(&machine, "qmp_capabilities", token: 1)
        let effects = machine.received(["error": ["class": "GenericError", "desc": "bad"]])
        #expect(effects.closeConnection)
        guard case .protocolError? = Self.failures(effects).first?.1 as? QMPError else {
            Issue.record("expected protocolError")
            return
        }
        #expect(Self.failures(effects).map(\.0) == [1])
    }

    @Test("a message that is not QMP fails everything with protocolError", arguments: [
        JSON.array([1, 2]), ["hello": "world"], ["error": ["desc": "no class"], "id": 1],
    ])
    func unrecognisedMessage(message: JSON) throws {
        var machine = try Self.running()
        _ = Self.submit(&machine, "c", token: 3)
        let effects = machine.received(message)
        #expect(effects.closeConnection)
        guard case .protocolError? = Self.failures(effects).first?.1 as? QMPError else {
            Issue.record("expected protocolError for \(message)")
            return
        }
    }

    @Test("streamFailed fails the greeting token while connecting")
    func streamFailedWhileConnecting() throws {
        var machine = Machine()
        try machine.connected(greetingToken: 4)
        let effects = machine.streamFailed(.protocolError("garbage"))
        #expect(effects.closeConnection)
        #expect(Self.failures(effects).map(\.0) == [4])
        #expect(Self.failures(effects).first?.1 as? QMPError == .protocolError("garbage"))
    }

    // MARK: Events

    @Test("events before the greeting and during negotiation are events, not replies (go-qemu #210)")
    func earlyEvents() throws {
        var machine = Machine()
        try machine.connected(greetingToken: 0)
        let before = machine.received(["event": "EARLY", "data": ["n": 1], "timestamp": ["seconds": 5, "microseconds": 6]])
        #expect(before.completions.isEmpty, "an event must not complete the greeting")
        #expect(before.events == [QMPEvent(name: "EARLY", data: ["n": 1],
                                           timestamp: QMPTimestamp(seconds: 5, microseconds: 6))])
        #expect(machine.runState == .connecting)
        #expect(machine.greeting == nil)

        let greeted = machine.received(Self.greetingJSON)
        #expect(greeted.completions.map(\.0) == [0])
        let (capID, _) = Self.submit(&machine, "qmp_capabilities", token: 1)

        let between = machine.received(["event": "MIDDLE", "timestamp": ["seconds": -1, "microseconds": -1]])
        #expect(between.completions.isEmpty, "an event must not complete qmp_capabilities")
        #expect(between.events.map(\.name) == ["MIDDLE"])
        #expect(between.events.first?.data == .object([:]))
        #expect(between.events.first?.timestamp == .unknown)
        #expect(machine.pending.keys.sorted() == [capID])

        let done = machine.received(Self.reply(capID))
        #expect(Self.successes(done).map(\.0) == [1])
        #expect(done.events.isEmpty)
    }

    // MARK: The end of the connection

    @Test("connectionEnded fails pending commands as interrupted, but a pending quit succeeds")
    func connectionEnded() throws {
        var machine = try Self.running()
        _ = Self.submit(&machine, "a", token: 10)
        _ = Self.submit(&machine, "quit", token: 11)
        _ = Self.submit(&machine, "b", token: 12, outOfBand: true)
        let effects = machine.connectionEnded(reason: "EOF")
        #expect(effects.ended)
        #expect(machine.runState == .idle)
        #expect(Self.successes(effects).map(\.0) == [11])
        let failed = Self.failures(effects)
        #expect(failed.map(\.0).sorted() == [10, 12])
        for (_, error) in failed {
            guard case .interrupted(_, let reason)? = error as? QMPError else {
                Issue.record("expected interrupted, got \(error)")
                continue
            }
            #expect(reason == "EOF")
        }
        #expect(failed.first { $0.0 == 10 }?.1 as? QMPError == .interrupted(command: "a", reason: "EOF"))
        #expect(machine.outstanding == 0)
    }

    @Test("a queued (never sent) quit is interrupted, not a success")
    func queuedQuitInterrupted() throws {
        var machine = try Self.running(maxInFlight: 1)
        _ = Self.submit(&machine, "a", token: 10)
        _ = Self.submit(&machine, "quit", token: 11)
        let effects = machine.connectionEnded(reason: "EOF")
        #expect(Self.successes(effects).isEmpty)
        #expect(Self.failures(effects).map(\.0) == [10, 11])
    }

    @Test("the connection ending before the greeting fails connect with negotiationFailed")
    func endedBeforeGreeting() throws {
        var machine = Machine()
        try machine.connected(greetingToken: 3)
        let effects = machine.connectionEnded(reason: "EOF")
        #expect(effects.ended)
        guard case .negotiationFailed? = Self.failures(effects).first?.1 as? QMPError else {
            Issue.record("expected negotiationFailed, got \(effects.completions)")
            return
        }
        #expect(machine.runState == .idle)
        // The machine can connect again.
        try machine.connected(greetingToken: 4)
        #expect(machine.runState == .connecting)
    }

    @Test("closing fails pending and queued commands as interrupted, quit included")
    func closing() throws {
        var machine = try Self.running(maxInFlight: 1)
        _ = Self.submit(&machine, "quit", token: 10)
        _ = Self.submit(&machine, "b", token: 11)
        let effects = machine.closing()
        #expect(effects.closeConnection)
        #expect(Self.failures(effects).map(\.0) == [10, 11])
        #expect(machine.runState == .disconnecting)
        let ended = machine.connectionEnded(reason: "closed")
        #expect(ended.completions.isEmpty)
        #expect(machine.runState == .idle)
        #expect(machine.closing().completions.isEmpty)
        #expect(!machine.closing().closeConnection, "closing while idle does nothing")
    }

    @Test("closing while waiting for the greeting fails the greeting token, exactly once")
    func closingWhileAwaitingGreeting() throws {
        var machine = Machine()
        try machine.connected(greetingToken: 42)
        let effects = machine.closing()
        #expect(effects.closeConnection)
        #expect(machine.runState == .disconnecting)
        #expect(Self.failures(effects).map(\.0) == [42])
        guard case .negotiationFailed? = Self.failures(effects).first?.1 as? QMPError else {
            Issue.record("expected negotiationFailed, got \(effects.completions)")
            return
        }
        // Nothing completes it a second time.
        let ended = machine.connectionEnded(reason: "closed")
        let late = machine.streamFailed(.negotiationFailed("watchdog"))
        #expect(ended.completions.isEmpty && late.completions.isEmpty)
    }

    @Test("a stream failure reported after the connection ended leaves the machine idle and reusable")
    func streamFailedAfterEnd() throws {
        var machine = try Self.running()
        _ = machine.connectionEnded(reason: "EOF")
        #expect(machine.runState == .idle)
        // E.g. QMPClient's connect watchdog firing just after the connection ended.
        let late = machine.streamFailed(.negotiationFailed("no greeting and negotiation within 10 seconds"))
        #expect(late.completions.isEmpty)
        #expect(machine.runState == .idle)
        #expect(throws: Never.self) { try machine.connected(greetingToken: 9) }
    }

    // MARK: Abandoning

    @Test("abandoning a pending in-band request frees its slot; its late reply is dropped")
    func abandonPending() throws {
        var machine = try Self.running()
        var ids: [Int64] = []
        for token in 0..<10 { ids.append(Self.submit(&machine, "c\(token)", token: token).0) }
        #expect(machine.inFlight == 8)

        struct Abandoned: Error, Equatable {}
        let effects = machine.abandon(id: ids[2], error: Abandoned())
        #expect(Self.failures(effects).map(\.0) == [2])
        #expect(Self.failures(effects).first?.1 is Abandoned)
        #expect(try Self.sentIDs(effects) == [ids[8]], "the first queued command takes the slot")
        #expect(machine.inFlight == 8)

        let late = machine.received(Self.reply(ids[2], "late"))
        #expect(late.completions.isEmpty)
        #expect(late.sends.isEmpty, "a dropped reply must not release another queued command")
        #expect(late.notices.count == 1)
        #expect(machine.inFlight == 8)

        // Abandoning it again, or abandoning a completed request, does nothing.
        #expect(machine.abandon(id: ids[2], error: Abandoned()).completions.isEmpty)
        let answered = machine.received(Self.reply(ids[0]))
        #expect(try Self.sentIDs(answered) == [ids[9]])
        let again = machine.abandon(id: ids[0], error: Abandoned())
        #expect(again.completions.isEmpty && again.sends.isEmpty)
        #expect(machine.inFlight == 8)
    }

    @Test("abandoning a queued request removes it without sending it")
    func abandonQueued() throws {
        var machine = try Self.running(maxInFlight: 2)
        var ids: [Int64] = []
        for token in 0..<5 { ids.append(Self.submit(&machine, "c\(token)", token: token).0) }
        struct Abandoned: Error {}
        let effects = machine.abandon(id: ids[3], error: Abandoned())
        #expect(Self.failures(effects).map(\.0) == [3])
        #expect(effects.sends.isEmpty)
        #expect(machine.inFlight == 2)
        #expect(machine.outstanding == 4)
        #expect(try Self.sentIDs(machine.received(Self.reply(ids[0]))) == [ids[2]])
        #expect(try Self.sentIDs(machine.received(Self.reply(ids[1]))) == [ids[4]], "the abandoned one is skipped")
    }

    @Test("abandoning an out-of-band request keeps the in-band window as it is")
    func abandonOutOfBand() throws {
        var machine = try Self.running(maxInFlight: 1)
        _ = Self.submit(&machine, "a", token: 0)
        _ = Self.submit(&machine, "b", token: 1)
        let (oob, _) = Self.submit(&machine, "o", token: 2, outOfBand: true)
        struct Abandoned: Error {}
        let effects = machine.abandon(id: oob, error: Abandoned())
        #expect(Self.failures(effects).map(\.0) == [2])
        #expect(effects.sends.isEmpty)
        #expect(machine.inFlight == 1)
    }

    @Test("abandoning a reserved id before its submission makes the submission fail at once")
    func abandonBeforeSubmit() throws {
        var machine = try Self.running()
        let id = machine.reserveID()
        struct Abandoned: Error, Equatable {}
        let early = machine.abandon(id: id, error: Abandoned())
        #expect(early.completions.isEmpty && early.sends.isEmpty)
        let effects = machine.submit(QMPCommand("query-status"), id: id, token: 77)
        #expect(effects.sends.isEmpty, "an abandoned command must not be sent")
        #expect(Self.failures(effects).map(\.0) == [77])
        #expect(Self.failures(effects).first?.1 is Abandoned)
        #expect(machine.outstanding == 0)
        #expect(machine.inFlight == 0)
        // The next command is unaffected.
        let (next, nextEffects) = Self.submit(&machine, "query-status", token: 78)
        #expect(try Self.sentIDs(nextEffects) == [next])
    }

    @Test("abandoning an id never reserved does nothing")
    func abandonUnknown() throws {
        var machine = try Self.running()
        struct Abandoned: Error {}
        let effects = machine.abandon(id: 9999, error: Abandoned())
        #expect(effects.completions.isEmpty && effects.sends.isEmpty)
        // And a later submission under a fresh id is not affected.
        let (id, sent) = Self.submit(&machine, "c", token: 1)
        #expect(try Self.sentIDs(sent) == [id])
    }

    @Test("a long queue drains in order across many replies")
    func longQueue() throws {
        var machine = try Self.running(maxInFlight: 2)
        var ids: [Int64] = []
        var sentOrder: [Int64] = []
        for token in 0..<300 {
            let (id, effects) = Self.submit(&machine, "c", token: token)
            ids.append(id)
            sentOrder += try Self.sentIDs(effects)
        }
        var answered = 0
        while answered < sentOrder.count {
            let effects = machine.received(Self.reply(sentOrder[answered]))
            #expect(Self.successes(effects).count == 1)
            sentOrder += try Self.sentIDs(effects)
            answered += 1
        }
        #expect(sentOrder == ids)
        #expect(machine.outstanding == 0)
        #expect(machine.inFlight == 0)
    }
}
