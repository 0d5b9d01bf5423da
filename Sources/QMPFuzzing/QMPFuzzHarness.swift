import QMP
/// Runs one input of arbitrary bytes through the stream decoder and the message model and checks their
/// invariants. The libFuzzer target `qmp-fuzz` crashes on any violation it reports; the regression tests
/// replay every saved input through the same function.
///
/// What is checked, for every input:
/// - the bytes, fed to a ``JSONStreamParser`` in chunk splits derived from the input, give the same messages
///   and the same kind of error as when fed at once; errors are ``JSONStreamError``s;
/// - every message's text parses alone to the same value, its serialization is ASCII and parses back to an
///   equal value with an equal hash (`JSON.parse(x.serialized()) == x`), and redaction is idempotent;
/// - classifying each message with ``QMPServerMessage`` gives a message or a ``QMPError``, nothing else;
/// - a ``QMPStateMachine`` driven like the client (greeting, `qmp_capabilities`, then pipelined commands, some
///   abandoned) over those messages completes every request exactly once, never has more in-band commands in
///   flight than allowed, writes only well-formed commands, and ends idle with nothing outstanding;
/// - the bytes read as a recording (``RecordingLoader``) give sessions or a ``RecordingError``, and loaded
///   sessions survive an export and a reload.
public enum QMPFuzzHarness {
    /// An invariant that did not hold for an input.
    public struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// Checks every invariant for `input`; returns the violations found (empty when all held).
    public static func check(_ input: [UInt8]) -> [Violation] {
        var violations: [Violation] = []
        func violated(_ text: String) { violations.append(Violation(description: text)) }
        var random = SplitMix64(seed: fnv1a(input))
        let maxMessageSize = random.next() % 4 == 0 ? 16 + Int(random.next() % 512) : 10 << 20
        let maxDepth = random.next() % 4 == 0 ? 1 + Int(random.next() % 8) : 128

        // 1. The stream decoder: split reads give what one read gives.
        let whole = decode(input, chunkSizes: nil, maxMessageSize: maxMessageSize, maxDepth: maxDepth)
        let largestChunk = [1, 2, 3, 7, 64, 4096][Int(random.next() % 6)]
        var sizes: [Int] = []
        var covered = 0
        while covered < input.count {
            let size = 1 + Int(random.next() % UInt64(largestChunk))
            sizes.append(size)
            covered += size
        }
        let split = decode(input, chunkSizes: sizes, maxMessageSize: maxMessageSize, maxDepth: maxDepth)
        if let error = whole.foreignError ?? split.foreignError { violated("the stream parser threw a foreign error: \(error)") }
        if whole.messages.count != split.messages.count
            || zip(whole.messages, split.messages).contains(where: { $0.json != $1.json || $0.text != $1.text }) {
            violated("split reads (\(sizes.prefix(20))...) gave \(split.messages.count) messages, one read gave \(whole.messages.count)")
        }
        if whole.errorKind != split.errorKind {
            violated("split reads ended with \(split.errorKind ?? "no error"), one read with \(whole.errorKind ?? "no error")")
        }
        if whole.errorKind == nil, whole.partial != split.partial {
            violated("split reads left a partial message: \(split.partial), one read: \(whole.partial)")
        }

        // 2. Each message: its text, its serialization, its classification.
        var classified: [JSON] = []
        for message in split.messages {
            checkValue(message.json, text: message.text, maxDepth: maxDepth, violated)
            do {
                _ = try QMPServerMessage(message.json)
            } catch is QMPError {
            } catch {
                violated("QMPServerMessage threw a foreign error: \(error)")
            }
            classified.append(message.json)
        }

        // 3. The state machine over the messages.
        let ending: QMPError? = split.errorKind.map { .protocolError("stream failed: \($0)") }
        runStateMachine(classified, streamError: ending, random: &random, violated)

        // 4. The bytes as a recording.
        checkRecording(input, violated)
        return violations
    }

    /// For triage: the messages (or error) that one read and the input's split reads give, one per line.
    public static func explain(_ input: [UInt8]) -> String {
        var random = SplitMix64(seed: fnv1a(input))
        let maxMessageSize = random.next() % 4 == 0 ? 16 + Int(random.next() % 512) : 10 << 20
        let maxDepth = random.next() % 4 == 0 ? 1 + Int(random.next() % 8) : 128
        let largestChunk = [1, 2, 3, 7, 64, 4096][Int(random.next() % 6)]
        var sizes: [Int] = []
        while sizes.reduce(0, +) < input.count { sizes.append(1 + Int(random.next() % UInt64(largestChunk))) }
        var lines = ["limits: \(maxMessageSize) bytes, depth \(maxDepth); reads: \(sizes)"]
        for (label, chunks) in [("one read", nil), ("split reads", sizes)] as [(String, [Int]?)] {
            let decoded = decode(input, chunkSizes: chunks, maxMessageSize: maxMessageSize, maxDepth: maxDepth)
            lines.append("\(label): \(decoded.messages.count) messages, error: \(decoded.errorKind ?? "none"), partial: \(decoded.partial)")
            for message in decoded.messages {
                lines.append("  \(message.json.serialized().prefix(200))  <- \(String(decoding: message.text.prefix(200), as: UTF8.self))")
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Stream decoding

    struct Decoded {
        var messages: [(json: JSON, text: [UInt8])] = []
        var errorKind: String?
        var foreignError: String?
        var partial = false
    }

    static func decode(_ input: [UInt8], chunkSizes: [Int]?, maxMessageSize: Int, maxDepth: Int) -> Decoded {
        let parser = JSONStreamParser(maxMessageSize: maxMessageSize, maxDepth: maxDepth)
        var result = Decoded()
        input.withUnsafeBytes { all in
            var offset = 0
            for size in chunkSizes ?? [input.count] where offset < input.count {
                let end = min(input.count, offset + size)
                do {
                    try parser.feed(UnsafeRawBufferPointer(rebasing: all[offset..<end])) { json, text in
                        result.messages.append((json, Array(text)))
                    }
                } catch let error as JSONStreamError {
                    switch error {
                    case .malformed: result.errorKind = "malformed"
                    case .messageTooLarge: result.errorKind = "messageTooLarge"
                    case .tooDeep: result.errorKind = "tooDeep"
                    case .parserFailed: result.errorKind = "parserFailed"
                    }
                    return
                } catch {
                    result.foreignError = "\(error)"
                    return
                }
                offset = end
            }
        }
        result.partial = parser.hasPartialMessage
        return result
    }

    // MARK: Values

    static func checkValue(_ value: JSON, text: [UInt8], maxDepth: Int, _ violated: (String) -> Void) {
        let preview = String(decoding: text.prefix(120), as: UTF8.self)
        do {
            let alone = try JSON.parse(text, maxDepth: maxDepth)
            if alone != value { violated("the message text \(preview) parses alone to \(alone.serialized().prefix(120))") }
        } catch {
            violated("the message text \(preview) does not parse alone: \(error)")
        }
        let serialized = value.serializedBytes()
        if serialized.contains(where: { $0 >= 0x80 }) {
            violated("serialization is not ASCII: \(String(decoding: serialized.prefix(120), as: UTF8.self))")
        }
        do {
            let again = try JSON.parse(serialized, maxDepth: maxDepth)
            if again != value {
                violated("round trip: \(String(decoding: serialized.prefix(120), as: UTF8.self)) parses to \(again.serialized().prefix(120))")
            } else if again.hashValue != value.hashValue {
                violated("equal values with different hashes: \(String(decoding: serialized.prefix(120), as: UTF8.self))")
            }
        } catch {
            violated("round trip: the serialization \(String(decoding: serialized.prefix(120), as: UTF8.self)) does not parse: \(error)")
        }
        let redacted = SecretRedaction.redact(value)
        if SecretRedaction.redact(redacted) != redacted { violated("redaction is not idempotent on \(preview)") }
    }

    // MARK: State machine

    static func runStateMachine(_ messages: [JSON], streamError: QMPError?, random: inout SplitMix64,
                                _ violated: (String) -> Void) {
        let maxInFlight = 1 + Int(random.next() % 8)
        var machine = QMPStateMachine<Int>(maxInFlight: maxInFlight)
        var completed: [Int: Int] = [:]
        var expected: Set<Int> = [0]
        var sentIDs: Set<Int64> = []
        var capabilitiesToken: Int?
        var commandIDs: [Int64] = []
        let commandCount = 12
        let abandonAfter = Int(random.next() % 16)
        var received = 0

        func apply(_ effects: QMPStateMachine<Int>.Effects) {
            for bytes in effects.sends {
                guard bytes.count >= 2, bytes.suffix(2).elementsEqual([0x0D, 0x0A]),
                      let json = try? JSON.parse(bytes.dropLast(2)), case .int(let id)? = json["id"],
                      json["execute"] != nil || json["exec-oob"] != nil else {
                    violated("the machine wrote a malformed command: \(String(decoding: bytes.prefix(120), as: UTF8.self))")
                    continue
                }
                if !sentIDs.insert(id).inserted { violated("the machine sent id \(id) twice") }
            }
            if machine.inFlight > maxInFlight || machine.inFlight < 0 {
                violated("\(machine.inFlight) in-band commands in flight, the limit is \(maxInFlight)")
            }
            var follow: [QMPStateMachine<Int>.Effects] = []
            for (token, result) in effects.completions {
                completed[token, default: 0] += 1
                if completed[token]! > 1 { violated("request \(token) completed twice") }
                if !expected.contains(token) { violated("request \(token) completed but was never submitted") }
                guard case .success = result else { continue }
                if token == 0 {
                    let id = machine.reserveID()
                    capabilitiesToken = 1
                    expected.insert(1)
                    follow.append(machine.submit(QMPCommand("qmp_capabilities"), id: id, token: 1))
                } else if token == capabilitiesToken {
                    machine.negotiated()
                    for index in 0..<commandCount {
                        let id = machine.reserveID()
                        commandIDs.append(id)
                        expected.insert(2 + index)
                        let command = QMPCommand(index == 3 ? "quit" : "query-\(index)", outOfBand: index == 5)
                        follow.append(machine.submit(command, id: id, token: 2 + index))
                    }
                }
            }
            follow.forEach(apply)
        }

        do {
            try machine.connected(greetingToken: 0)
        } catch {
            violated("connected() failed on a fresh machine: \(error)")
            return
        }
        for message in messages {
            apply(machine.received(message))
            received += 1
            if received == abandonAfter, commandIDs.count > 2 {
                apply(machine.abandon(id: commandIDs[1], error: QMPError.timedOut(command: "query-1", seconds: 1)))
                apply(machine.abandon(id: commandIDs.last!, error: CancellationError()))
            }
            if machine.runState == .disconnecting || machine.runState == .idle { break }
        }
        if let streamError { apply(machine.streamFailed(streamError)) }
        apply(machine.connectionEnded(reason: "end of input"))
        for token in expected where completed[token] != 1 {
            violated("request \(token) completed \(completed[token] ?? 0) times at the end")
        }
        if machine.outstanding != 0 { violated("\(machine.outstanding) requests outstanding at the end") }
        if machine.runState != .idle { violated("the machine ended \(machine.runState.rawValue), not idle") }
    }

    // MARK: Recordings

    static func checkRecording(_ input: [UInt8], _ violated: (String) -> Void) {
        let sessions: [ReplaySession]
        do {
            sessions = try RecordingLoader.load(bytes: input, source: "fuzz-input")
        } catch is RecordingError {
            return
        } catch {
            violated("RecordingLoader threw a foreign error: \(error)")
            return
        }
        for session in sessions {
            do {
                let again = try RecordingLoader.load(bytes: session.jsonLines(), source: "fuzz-export")
                if again.count != 1 || again[0].exchanges.map(\.command) != session.exchanges.map(\.command)
                    || again[0].exchanges.map(\.reply) != session.exchanges.map(\.reply) {
                    violated("a loaded recording changed through export and reload")
                }
            } catch {
                violated("a loaded recording does not reload after export: \(error)")
            }
        }
    }

    // MARK: Randomness derived from the input

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    struct SplitMix64 {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
