import CJSONC

/// Splits a byte stream into JSON values with json-c's incremental tokener.
///
/// QMP is a stream of JSON objects that reads may split or merge at any byte. Feed each read to
/// `feed(_:_:)`; every complete value is handed to the callback with its exact text. Whitespace
/// between values is skipped. Memory stays bounded: a value whose text grows beyond
/// ``maxMessageSize`` bytes, or nests deeper than ``maxDepth``, ends the stream with a
/// ``JSONStreamError``, and the parser must not be fed again.
public final class JSONStreamParser {
    /// The largest accepted message, in bytes of JSON text.
    public let maxMessageSize: Int
    /// The deepest accepted nesting of arrays and objects.
    public let maxDepth: Int

    private let tokener: UnsafeMutablePointer<json_tokener>
    /// The bytes of the message being parsed, kept across reads (only while a message is incomplete).
    private var partial: [UInt8] = []
    /// Number bytes at the end of the last read, not yet given to json-c.
    private var heldBack: [UInt8] = []
    private var failed = false

    /// Creates a parser with the given limits.
    public init(maxMessageSize: Int = 10 << 20, maxDepth: Int = 128) {
        self.maxMessageSize = maxMessageSize
        self.maxDepth = maxDepth
        self.tokener = json_tokener_new_ex(Int32(clamping: maxDepth))!
        json_tokener_set_flags(tokener, JSON.tokenerFlags)
    }

    deinit {
        json_tokener_free(tokener)
    }

    /// Whether a message has started but not finished.
    public var hasPartialMessage: Bool { !partial.isEmpty || !heldBack.isEmpty }

    /// Feeds the next bytes of the stream; calls `emit` with each complete value and its text.
    /// - Throws: ``JSONStreamError`` on malformed JSON or a limit exceeded, or what `emit` throws.
    public func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (JSON, ArraySlice<UInt8>) throws -> Void) throws {
        guard !failed else { throw JSONStreamError.parserFailed }
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return }
        var remaining = bytes.count
        // json-c checks a number's syntax only within one call (it accepts `{"a":44-}` when `44` and `-}` come in
        // two reads): a run of number bytes at the end of a read is held back and fed with the bytes that end it.
        if !heldBack.isEmpty {
            var run = 0
            while run < remaining, Self.isNumberByte(base[run]) { run += 1 }
            if run == remaining {
                heldBack.append(contentsOf: UnsafeBufferPointer(start: base, count: run))
                try flushHeldBackIfLarge(emit)
                return
            }
            var joined = heldBack
            joined.append(contentsOf: UnsafeBufferPointer(start: base, count: run + 1))
            heldBack = []
            base += run + 1
            remaining -= run + 1
            try joined.withUnsafeBufferPointer { try parse($0.baseAddress!, $0.count, emit) }
        }
        var run = 0
        while run < remaining, Self.isNumberByte(base[remaining - 1 - run]) { run += 1 }
        try parse(base, remaining - run, emit)
        if run > 0 {
            heldBack = Array(UnsafeBufferPointer(start: base + remaining - run, count: run))
            try flushHeldBackIfLarge(emit)
        }
    }

    /// The bytes json-c takes as part of a number (`json_number_chars`).
    @inline(__always)
    static func isNumberByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2B || byte == 0x2E || byte == 0x65 || byte == 0x45
    }

    /// Memory stays bounded: held-back bytes beyond the size limit go to json-c after all (a message that long
    /// fails as too large there, as it does in one read).
    private func flushHeldBackIfLarge(_ emit: (JSON, ArraySlice<UInt8>) throws -> Void) throws {
        if heldBack.count > maxMessageSize + 1 {
            let bytes = heldBack
            heldBack = []
            try bytes.withUnsafeBufferPointer { try parse($0.baseAddress!, $0.count, emit) }
        }
    }

    /// Feeds `count` bytes at `start` to json-c, emitting every message they complete.
    private func parse(_ start: UnsafePointer<UInt8>, _ count: Int, _ emit: (JSON, ArraySlice<UInt8>) throws -> Void) throws {
        var base = start
        var remaining = count
        while remaining > 0 {
            if partial.isEmpty {
                // Between messages: skip whitespace ourselves so it never counts towards a message.
                while remaining > 0, JSON.isWhitespace(base.pointee) {
                    base += 1
                    remaining -= 1
                }
                if remaining == 0 { return }
            }
            let chunk = min(remaining, Int(Int32.max) - 1, maxMessageSize - partial.count + 1)
            let object = base.withMemoryRebound(to: CChar.self, capacity: chunk) {
                json_tokener_parse_ex(tokener, $0, Int32(chunk))
            }
            let error = json_tokener_get_error(tokener)
            if error == json_tokener_continue {
                partial.append(contentsOf: UnsafeBufferPointer(start: base, count: chunk))
                base += chunk
                remaining -= chunk
                if partial.count > maxMessageSize {
                    fail()
                    throw JSONStreamError.messageTooLarge(limit: maxMessageSize)
                }
                continue
            }
            guard error == json_tokener_success else {
                let offset = Int(json_tokener_get_parse_end(tokener))
                let reason = error == json_tokener_error_depth
                    ? "nesting deeper than \(maxDepth)" : String(cString: json_tokener_error_desc(error))
                fail()
                if error == json_tokener_error_depth { throw JSONStreamError.tooDeep(limit: maxDepth) }
                throw JSONStreamError.malformed(JSONParseError(reason: reason, offset: offset))
            }
            let consumed = Int(json_tokener_get_parse_end(tokener))
            let value: JSON
            do {
                value = try JSON(borrowing: object)
            } catch {
                if let object { json_object_put(object) }
                fail()
                throw JSONStreamError.malformed(error)
            }
            if let object { json_object_put(object) }
            json_tokener_reset(tokener)
            var text: ArraySlice<UInt8>
            if partial.isEmpty {
                text = ArraySlice(UnsafeBufferPointer(start: base, count: consumed))
            } else {
                partial.append(contentsOf: UnsafeBufferPointer(start: base, count: consumed))
                text = partial[...]
                partial = []
            }
            // json-c may have consumed whitespace after the value; the message's text ends at the value.
            while let last = text.last, JSON.isWhitespace(last) { text = text.dropLast() }
            if text.count > maxMessageSize {
                fail()
                throw JSONStreamError.messageTooLarge(limit: maxMessageSize)
            }
            base += consumed
            remaining -= consumed
            try emit(value, text)
        }
    }

    /// Convenience for byte arrays: see `feed(_:_:)`.
    public func feed(_ bytes: [UInt8], _ emit: (JSON, ArraySlice<UInt8>) throws -> Void) throws {
        try bytes.withUnsafeBytes { try feed($0, emit) }
    }

    private func fail() {
        failed = true
        partial = []
        heldBack = []
        json_tokener_reset(tokener)
    }
}

/// Why a JSON byte stream could not be split into messages.
public enum JSONStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not JSON.
    case malformed(JSONParseError)
    /// A message grew beyond the size limit (bytes).
    case messageTooLarge(limit: Int)
    /// A message nested deeper than the limit.
    case tooDeep(limit: Int)
    /// The parser was fed after it had failed.
    case parserFailed

    public var description: String {
        switch self {
        case .malformed(let error): return "malformed JSON: \(error)"
        case .messageTooLarge(let limit): return "message larger than the limit of \(limit) bytes"
        case .tooDeep(let limit): return "message nested deeper than the limit of \(limit)"
        case .parserFailed: return "the JSON stream already failed"
        }
    }
}
