import Testing

@testable import QMP

/// `JSONStreamParser` and `JSON.parse` / `JSON.serialized()` on their own.
@Suite("JSONStreamParser and JSON text")
struct StreamParserTests {
    /// Feeds `chunks` in order and collects every message and its text.
    static func collect(_ parser: JSONStreamParser, _ chunks: [[UInt8]]) throws -> [(JSON, String)] {
        var messages: [(JSON, String)] = []
        for chunk in chunks {
            try parser.feed(chunk) { json, text in messages.append((json, String(decoding: text, as: UTF8.self))) }
        }
        return messages
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A reply as QEMU writes it: non-ASCII characters escaped (QEMU's JSON writer escapes everything above 0x7E).
    static let sample = #"{"return": {"status": "running", "singlestep": false, "running": true, "name": "\u00e9t\u00e9 \ud83d\ude00 \u4e2d", "n": -12.5e3, "list": [1, null, true, {}]}, "id": 7}"#
    /// The same reply with raw UTF-8 in the string.
    static let rawSample = #"{"return": {"status": "running", "singlestep": false, "running": true, "name": "été 😀 中", "n": -12.5e3, "list": [1, null, true, {}]}, "id": 7}"#


    // MARK: Framing

    @Test("a message fed one byte at a time parses like the whole message")
    func byteByByte() throws {
        let whole = try Self.collect(JSONStreamParser(), [Self.bytes(Self.sample + "\r\n")])
        #expect(whole.count == 1)
        let parser = JSONStreamParser()
        let split = try Self.collect(parser, Self.bytes(Self.sample + "\r\n").map { [$0] })
        #expect(split.count == 1)
        #expect(split.first?.0 == whole.first?.0)
        #expect(split.first?.1 == Self.sample)
        #expect(whole.first?.1 == Self.sample)
        #expect(whole.first?.0["return"]?["name"] == "été 😀 中")
        #expect(!parser.hasPartialMessage)
    }

    @Test("raw UTF-8 parses the same as escapes when fed whole")
    func rawUTF8Whole() throws {
        let raw = try Self.collect(JSONStreamParser(), [Self.bytes(Self.rawSample + "\r\n")])
        #expect(raw.map(\.0) == [try JSON.parse(Self.sample)])
        #expect(raw.map(\.1) == [Self.rawSample])
    }

    @Test("raw UTF-8 split inside a multi-byte character parses the same")
    func rawUTF8Split() throws {
        let text = Self.bytes(Self.rawSample)
        let expected = try JSON.parse(Self.sample)
        // Cut points inside a multi-byte character (after a lead byte or a continuation byte).
        let cuts = text.indices.dropFirst().filter { text[$0] & 0xC0 == 0x80 }
        #expect(cuts.count == 7)
        for cut in cuts {
            let parser = JSONStreamParser()
            var seen: [(JSON, String)] = []
            try parser.feed(Array(text[..<cut])) { json, raw in seen.append((json, String(decoding: raw, as: UTF8.self))) }
            try parser.feed(Array(text[cut...])) { json, raw in seen.append((json, String(decoding: raw, as: UTF8.self))) }
            #expect(seen.map(\.0) == [expected], "cut at \(cut)")
            #expect(seen.map(\.1) == [Self.rawSample], "cut at \(cut)")
        }
        // And byte by byte.
        let byteWise = try Self.collect(JSONStreamParser(), text.map { [$0] })
        #expect(byteWise.map(\.0) == [expected])
        #expect(byteWise.map(\.1) == [Self.rawSample])
    }

    @Test("a message split at every byte boundary parses the same")
    func everySplitPoint() throws {
        let text = Self.bytes(Self.sample)
        let expected = try JSON.parse(text)
        for cut in 1..<text.count {
            let parser = JSONStreamParser()
            var seen: [(JSON, String)] = []
            try parser.feed(Array(text[..<cut])) { json, raw in seen.append((json, String(decoding: raw, as: UTF8.self))) }
            #expect(seen.isEmpty, "cut at \(cut): nothing is complete yet")
            #expect(parser.hasPartialMessage)
            try parser.feed(Array(text[cut...])) { json, raw in seen.append((json, String(decoding: raw, as: UTF8.self))) }
            #expect(seen.count == 1, "cut at \(cut)")
            #expect(seen.first?.0 == expected, "cut at \(cut)")
            #expect(seen.first?.1 == Self.sample, "cut at \(cut)")
        }
    }

    @Test("several messages in one feed, with whitespace and CRLF between them")
    func severalInOneFeed() throws {
        let messages = [
            #"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}"#,
            #"{"return": {}, "id": 1}"#,
            #"{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}"#,
            #"{"return":[1,2,3],"id":2}"#,
        ]
        let stream = "  \r\n" + messages[0] + "\r\n" + messages[1] + messages[2] + "\n\t \r\n" + messages[3] + "\r\n\r\n"
        let parser = JSONStreamParser()
        let seen = try Self.collect(parser, [Self.bytes(stream)])
        #expect(seen.map(\.1) == messages)
        #expect(seen.map(\.0) == (try messages.map { try JSON.parse($0) }))
        #expect(!parser.hasPartialMessage)
        // The same stream byte by byte.
        let again = try Self.collect(JSONStreamParser(), Self.bytes(stream).map { [$0] })
        #expect(again.map(\.1) == messages)
        // And in chunks of 7 bytes.
        let sevens = stride(from: 0, to: stream.utf8.count, by: 7).map { Array(Self.bytes(stream)[$0..<min($0 + 7, stream.utf8.count)]) }
        #expect(try Self.collect(JSONStreamParser(), sevens).map(\.1) == messages)
    }

    @Test("an empty feed and whitespace-only feeds emit nothing")
    func whitespaceOnly() throws {
        let parser = JSONStreamParser()
        #expect(try Self.collect(parser, [[], Self.bytes(" \r\n\t"), []]).isEmpty)
        #expect(!parser.hasPartialMessage)
        #expect(try Self.collect(parser, [Self.bytes("{}")]).map(\.1) == ["{}"])
    }

    @Test("a message that ends exactly at the limit is accepted, one byte more is not")
    func sizeBoundary() throws {
        let message = #"{"return": "0123456789", "id": 1}"#
        let size = message.utf8.count
        let exact = JSONStreamParser(maxMessageSize: size)
        #expect(try Self.collect(exact, [Self.bytes(message + "\r\n" + message)]).map(\.1) == [message, message])
        let byteWise = JSONStreamParser(maxMessageSize: size)
        #expect(try Self.collect(byteWise, Self.bytes(message + "\r\n").map { [$0] }).map(\.1) == [message])

        let small = JSONStreamParser(maxMessageSize: size - 1)
        #expect(throws: JSONStreamError.messageTooLarge(limit: size - 1)) {
            _ = try Self.collect(small, [Self.bytes(message)])
        }
        let smallByteWise = JSONStreamParser(maxMessageSize: size - 1)
        #expect(throws: JSONStreamError.messageTooLarge(limit: size - 1)) {
            _ = try Self.collect(smallByteWise, Self.bytes(message).map { [$0] })
        }
    }

    @Test("an oversize message fails at the chunk that crosses the limit, without reading the rest")
    func oversizeIsBounded() throws {
        let limit = 1 << 20
        let chunkSize = 64 << 10
        let total = 20 << 20
        let parser = JSONStreamParser(maxMessageSize: limit)
        var chunk = [UInt8](repeating: UInt8(ascii: "a"), count: chunkSize)
        let head = Self.bytes(#"{"return": ""#)
        chunk.replaceSubrange(0..<head.count, with: head)
        let filler = [UInt8](repeating: UInt8(ascii: "a"), count: chunkSize)

        var fed = 0
        var failure: (any Error)?
        var emitted = 0
        while fed < total {
            do {
                try parser.feed(fed == 0 ? chunk : filler) { _, _ in emitted += 1 }
            } catch {
                failure = error
                break
            }
            fed += chunkSize
            #expect(parser.hasPartialMessage)
        }
        #expect(emitted == 0)
        #expect(failure as? JSONStreamError == .messageTooLarge(limit: limit))
        // 16 chunks make exactly 1 MiB (accepted so far); the 17th crosses the limit.
        #expect(fed == limit, "threw while feeding chunk #\(fed / chunkSize + 1)")
        #expect(fed < total)
        #expect(!parser.hasPartialMessage, "the partial message is released on failure")
        #expect(throws: JSONStreamError.parserFailed) { try parser.feed(Self.bytes("{}")) { _, _ in } }
    }

    @Test("a single huge feed fails without emitting", arguments: [1 << 10, 64 << 10])
    func oversizeInOneFeed(limit: Int) throws {
        var text = Self.bytes(#"{"return": ""#)
        text += [UInt8](repeating: UInt8(ascii: "b"), count: 4 * limit)
        text += Self.bytes(#"", "id": 1}"#)
        let parser = JSONStreamParser(maxMessageSize: limit)
        var emitted = 0
        #expect(throws: JSONStreamError.messageTooLarge(limit: limit)) {
            try parser.feed(text) { _, _ in emitted += 1 }
        }
        #expect(emitted == 0)
    }

    @Test("messages before an oversize one in the same feed are still emitted")
    func goodThenOversize() throws {
        let parser = JSONStreamParser(maxMessageSize: 64)
        var seen: [String] = []
        let big = #"{"return": ""# + String(repeating: "x", count: 200) + #""}"#
        #expect(throws: JSONStreamError.messageTooLarge(limit: 64)) {
            try parser.feed(Self.bytes(#"{"return": {}, "id": 1}"# + "\r\n" + big)) { _, text in
                seen.append(String(decoding: text, as: UTF8.self))
            }
        }
        #expect(seen == [#"{"return": {}, "id": 1}"#])
    }

    // MARK: Depth

    static func nested(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    @Test("nesting deeper than maxDepth fails with tooDeep")
    func tooDeep() throws {
        let parser = JSONStreamParser(maxDepth: 8)
        #expect(throws: JSONStreamError.tooDeep(limit: 8)) {
            try parser.feed(Self.bytes(Self.nested(50))) { _, _ in }
        }
        #expect(throws: JSONStreamError.parserFailed) { try parser.feed(Self.bytes("{}")) { _, _ in } }

        let objects = JSONStreamParser(maxDepth: 8)
        let deepObject = String(repeating: #"{"a":"#, count: 9) + "1" + String(repeating: "}", count: 9)
        #expect(throws: JSONStreamError.tooDeep(limit: 8)) {
            try objects.feed(Self.bytes(deepObject)) { _, _ in }
        }
    }

    @Test("nesting of exactly maxDepth is accepted, one more is not")
    func depthBoundary() throws {
        let ok = JSONStreamParser(maxDepth: 8)
        #expect(try Self.collect(ok, [Self.bytes(Self.nested(8))]).map(\.1) == [Self.nested(8)])
        let over = JSONStreamParser(maxDepth: 8)
        #expect(throws: JSONStreamError.tooDeep(limit: 8)) {
            try over.feed(Self.bytes(Self.nested(9))) { _, _ in }
        }
        // The default limit (128) allows 128 levels.
        #expect(try Self.collect(JSONStreamParser(), [Self.bytes(Self.nested(128))]).count == 1)
        #expect(throws: JSONStreamError.tooDeep(limit: 128)) {
            try JSONStreamParser().feed(Self.bytes(Self.nested(129))) { _, _ in }
        }
    }

    // MARK: Malformed input

    @Test("garbage bytes fail with malformed, and the parser stays failed", arguments: [
        "}{", "hello", #"{"a" 1}"#, #"{"a": tru}"#, "[1,,2]", #"{"a": 1,}"#, "\u{1}",
    ])
    func garbage(text: String) throws {
        let parser = JSONStreamParser()
        do {
            try parser.feed(Self.bytes(text + "\r\n")) { json, _ in Issue.record("emitted \(json) from garbage") }
            Issue.record("no error for \(text.debugDescription)")
        } catch JSONStreamError.malformed(let error) {
            #expect(!error.reason.isEmpty)
        } catch {
            Issue.record("expected malformed, got \(error)")
        }
        #expect(throws: JSONStreamError.parserFailed) { try parser.feed(Self.bytes("{}")) { _, _ in } }
        #expect(throws: JSONStreamError.parserFailed) { try parser.feed([UInt8]()) { _, _ in } }
    }

    @Test("invalid UTF-8 inside a string is repaired with U+FFFD, not rejected")
    func invalidUTF8() throws {
        // json-c 0.16 cannot validate UTF-8 split across reads, so the parser no longer validates it;
        // strings are decoded with repair instead (see JSON.tokenerFlags).
        var text = Self.bytes(#"{"a": "x"#)
        text += [0xC3, 0x28, 0xFF]  // a lead byte followed by a non-continuation byte, and a byte never valid
        text += Self.bytes(#"y"}"#)
        let streamed = try Self.collect(JSONStreamParser(), text.map { [$0] })
        let value = try #require(streamed.first?.0["a"]?.stringValue)
        #expect(value.hasPrefix("x\u{FFFD}"))
        #expect(value.hasSuffix("y"))
        #expect(value.contains("("))
        #expect(try JSON.parse(text)["a"]?.stringValue == value)
    }

    @Test("good messages before garbage are emitted, then the feed throws")
    func goodThenGarbage() throws {
        let parser = JSONStreamParser()
        var seen: [JSON] = []
        #expect {
            try parser.feed(Self.bytes(#"{"return": 1, "id": 1}"# + "\r\n" + "xyz")) { json, _ in seen.append(json) }
        } throws: { error in
            if case JSONStreamError.malformed = error { return true }
            return false
        }
        #expect(seen == [["return": 1, "id": 1]])
    }

    // MARK: Numbers and strings

    @Test("64-bit integers survive exactly, and values above Int64.max become .uint")
    func integers() throws {
        let text = #"{"min": -9223372036854775808, "max": 9223372036854775807, "above": 9223372036854775808, "umax": 18446744073709551615, "zero": 0, "neg": -1, "d": 1.5, "e": -2.5e-3}"#
        let parsed = try Self.collect(JSONStreamParser(), Self.bytes(text).map { [$0] })
        let value = try #require(parsed.first?.0)
        for source in [value, try JSON.parse(text)] {
            guard case .int(let min)? = source["min"], case .int(let max)? = source["max"],
                  case .uint(let above)? = source["above"], case .uint(let umax)? = source["umax"]
            else {
                Issue.record("unexpected cases: \(source)")
                continue
            }
            #expect(min == Int64.min)
            #expect(max == Int64.max)
            #expect(above == UInt64(Int64.max) + 1)
            #expect(umax == UInt64.max)
            #expect(source["zero"] == .int(0))
            #expect(source["neg"] == .int(-1))
            #expect(source["d"] == .double(1.5))
            #expect(source["e"] == .double(-0.0025))
        }
        // And they serialize back to the same digits.
        #expect(value["min"]?.serialized() == "-9223372036854775808")
        #expect(value["max"]?.serialized() == "9223372036854775807")
        #expect(value["umax"]?.serialized() == "18446744073709551615")
        #expect(try JSON.parse(value.serialized()) == value)
    }

    @Test("unicode escapes and raw UTF-8 decode to the same string")
    func unicode() throws {
        let escaped = #"["\u00e9\u4e2d\ud83d\ude00\u0041\n\t\"\\\/"]"#
        let raw = "[\"é中😀A\\n\\t\\\"\\\\/\"]"
        let expected: JSON = ["é中😀A\n\t\"\\/"]
        #expect(try JSON.parse(escaped) == expected)
        #expect(try JSON.parse(raw) == expected)
        for text in [escaped, raw] {
            let whole = try Self.collect(JSONStreamParser(), [Self.bytes(text)])
            #expect(whole.map(\.0) == [expected], "\(text)")
            #expect(whole.map(\.1) == [text])
        }
        for text in [escaped, raw] {
            let streamed = try Self.collect(JSONStreamParser(), Self.bytes(text).map { [$0] })
            #expect(streamed.map(\.0) == [expected], "\(text)")
            #expect(streamed.map(\.1) == [text])
        }
        // Non-ASCII object keys too.
        #expect(try JSON.parse(#"{"cl\u00e9": 1, "ключ": 2}"#) == ["clé": 1, "ключ": 2])
    }

    // MARK: JSON.parse

    @Test("JSON.parse of lone scalars")
    func loneScalars() throws {
        #expect(try JSON.parse(" -7 ") == .int(-7))
        #expect(try JSON.parse("42\n") == .int(42))
        #expect(try JSON.parse("true ") == .bool(true))
        #expect(try JSON.parse("null") == .null)
        #expect(try JSON.parse(#""s""#) == .string("s"))
        #expect(try JSON.parse(#"  "s"  "#) == .string("s"))
    }

    @Test("JSON.parse of a bare number or boolean (nothing after it)", arguments: [
        ("42", JSON.int(42)), ("-7", .int(-7)), ("1.25", .double(1.25)), ("1e3", .double(1000)),
        ("9223372036854775807", .int(Int64.max)), ("18446744073709551615", .uint(UInt64.max)),
        ("true", .bool(true)), ("false", .bool(false)),
    ])
    func bareScalar(text: String, expected: JSON) throws {
        #expect(try JSON.parse(text) == expected)
        #expect(try JSON.parse(Self.bytes(text)) == expected)
        #expect(try JSON.parse(Self.bytes(text + "  \r\n")) == expected)
        #expect(throws: JSONParseError.self) { try JSON.parse(text + "x") }
    }

    @Test("JSON.parse rejects trailing garbage and incomplete text", arguments: [
        #"{"a": 1} x"#, "42x", "42 43", "[1] [2]", "{} {}", #""a" "b""#, "true false",
        "", "   ", "{", #"{"a": "#, "[1,", "-", "nul",
    ])
    func parseErrors(text: String) {
        #expect(throws: JSONParseError.self, "\(text.debugDescription)") { try JSON.parse(text) }
    }

    @Test("JSON.parse rejects trailing garbage after null")
    func parseNullTrailing() {
        #expect(throws: JSONParseError.self) { try JSON.parse("null x") }
        #expect(throws: JSONParseError.self) { try JSON.parse("null null") }
        // Inside a container it is caught.
        #expect(throws: JSONParseError.self) { try JSON.parse("[null] x") }
    }

    @Test("JSON.parse honours maxDepth")
    func parseDepth() throws {
        #expect(try JSON.parse(Self.nested(4), maxDepth: 4) == [[[[]]]])
        #expect(throws: JSONParseError.self) { try JSON.parse(Self.nested(5), maxDepth: 4) }
    }

    // MARK: Serialization

    static let roundTripValues: [JSON] = [
        .null, true, false, 0, -1, .int(Int64.min), .int(Int64.max), .uint(UInt64.max), .uint(UInt64(Int64.max) + 1),
        1.5, -0.25, 1e300, .double(Double.leastNonzeroMagnitude), 123456.789, .double(Double.greatestFiniteMagnitude),
        "", "plain", "quote \" backslash \\ slash /", "control \u{0}\u{1}\u{8}\u{C}\n\r\t\u{1F}\u{7F}",
        "non-ASCII: é ü ß ñ 中文 ключ", "astral: 😀 𝄞 \u{10FFFF}", "mixed \"😀\"\n\\u0041",
        [], [1, "two", 3.5, nil, true, [[]]], [:],
        ["return": ["status": "running", "nested": ["a": [1, 2, ["b": "c"]]]], "id": 7],
        ["é": "key with non-ASCII", "😀": ["x": .uint(UInt64.max)], "q\"k": "quoted key", "ctl\nkey": 1],
    ]

    @Test("serialization round-trips", arguments: roundTripValues)
    func roundTrip(value: JSON) throws {
        let text = value.serialized()
        #expect(text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "serialized text is printable ASCII: \(text)")
        #expect(value.serializedBytes() == Array(text.utf8))
        #expect(try JSON.parse("[" + text + "]") == [value], "\(text)")
        #expect(try JSON.parse(text) == value, "\(text)")
        // And through the stream parser, which must emit exactly the serialized text.
        let streamed = try Self.collect(JSONStreamParser(), [Array("[".utf8) + value.serializedBytes() + Array("]\r\n".utf8)])
        #expect(streamed.map(\.0) == [.array([value])])
        #expect(streamed.map(\.1) == ["[" + text + "]"])
        let objectText = #"{"v": "# + text + "}"
        let byteWise = try Self.collect(JSONStreamParser(), Self.bytes(objectText).map { [$0] })
        #expect(byteWise.map(\.0) == [["v": value]])
    }

    @Test("a string with every control character and a NUL round-trips")
    func controlCharacters() throws {
        let all = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        let value: JSON = ["s": .string(all + "end")]
        let back = try JSON.parse(value.serialized())
        #expect(back == value)
        #expect(back["s"]?.stringValue?.unicodeScalars.count == 35)
    }

    @Test("an object key containing NUL survives a round trip")
    func nulInKey() throws {
        let value: JSON = ["a\u{0}b": 1, "c": 2]
        #expect(value.serialized() == #"{"a\u0000b":1,"c":2}"#)
        withKnownIssue("""
            bug (json-c limitation): object keys are C strings in json-c (the tokener strdup()s the field name and \
            JSON(borrowing:) reads it with String(cString:)), so a key is cut at its first NUL: {"a\\u0000b":1} \
            parses as {"a":1}
            """) {
            let back = try JSON.parse(value.serialized())
            #expect(back == value)
        }
    }

    @Test("key order is kept through a round trip")
    func keyOrder() throws {
        let text = #"{"z": 1, "a": 2, "m": {"y": 1, "b": 2}}"#
        let value = try JSON.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value["m"]?.objectValue?.keys == ["y", "b"])
        #expect(value.serialized() == #"{"z":1,"a":2,"m":{"y":1,"b":2}}"#)
    }
}
