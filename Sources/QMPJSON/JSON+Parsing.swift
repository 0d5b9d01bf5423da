import CJSONC

/// Why a piece of JSON text could not be parsed.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in json-c's words or ours.
    public var reason: String
    /// The byte offset in the input where parsing stopped, when known.
    public var offset: Int?

    /// An error with a reason and an optional offset.
    public init(reason: String, offset: Int? = nil) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        offset.map { "\(reason) (at byte \($0))" } ?? reason
    }
}

extension JSON {
    /// The flags every json-c tokener of ours uses: strict JSON (as QEMU writes it; json-c 0.16 cannot validate
    /// UTF-8 split across reads, so invalid sequences are repaired when strings are decoded instead),
    /// and bytes after a complete value left for the next message.
    static let tokenerFlags = Int32(JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS)

    /// Parses exactly one JSON value from `bytes` (surrounding whitespace allowed).
    /// - Parameters:
    ///   - bytes: UTF-8 JSON text.
    ///   - maxDepth: the deepest nesting accepted.
    /// - Throws: ``JSONParseError`` when the text is not one complete JSON value.
    public static func parse<Bytes: Collection>(_ bytes: Bytes, maxDepth: Int = 128) throws -> JSON
    where Bytes.Element == UInt8 {
        if let result = try bytes.withContiguousStorageIfAvailable({ try parse(UnsafeRawBufferPointer($0), maxDepth: maxDepth) }) {
            return result
        }
        return try Array(bytes).withUnsafeBytes { try parse($0, maxDepth: maxDepth) }
    }

    /// Parses exactly one JSON value from a string.
    public static func parse(_ text: String, maxDepth: Int = 128) throws -> JSON {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0), maxDepth: maxDepth) }
    }

    /// Parses exactly one JSON value from raw UTF-8 bytes.
    public static func parse(_ buffer: UnsafeRawBufferPointer, maxDepth: Int = 128) throws -> JSON {
        guard let object = try parseTree(buffer, maxDepth: maxDepth) else { return .null }
        defer { json_object_put(object) }
        return try JSON(borrowing: object)
    }

    /// Parses exactly one JSON value into a json-c tree that the caller owns (`json_object_put`); nil for `null`.
    static func parseTree(_ buffer: UnsafeRawBufferPointer, maxDepth: Int) throws(JSONParseError) -> OpaquePointer? {
        guard let tokener = json_tokener_new_ex(Int32(clamping: maxDepth)) else {
            throw JSONParseError(reason: "json-c could not allocate a tokener")
        }
        defer { json_tokener_free(tokener) }
        json_tokener_set_flags(tokener, tokenerFlags)
        guard buffer.count <= Int(Int32.max) else { throw JSONParseError(reason: "input larger than 2 GiB") }
        var object: OpaquePointer?
        var error = json_tokener_continue
        if let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count > 0 {
            object = json_tokener_parse_ex(tokener, base, Int32(buffer.count))
            error = json_tokener_get_error(tokener)
        }
        var terminated = false
        if object == nil, error == json_tokener_continue {
            // A lone number needs a terminator to be complete: json-c takes the NUL (length 1) as one.
            var terminator: CChar = 0
            object = json_tokener_parse_ex(tokener, &terminator, 1)
            error = json_tokener_get_error(tokener)
            terminated = true
        }
        func checkTrailing() throws(JSONParseError) {
            let end = Int(json_tokener_get_parse_end(tokener))
            if !terminated, end < buffer.count, buffer[end...].contains(where: { !JSON.isWhitespace($0) }) {
                throw JSONParseError(reason: "unexpected data after the JSON value", offset: end)
            }
        }
        guard let object else {
            if error == json_tokener_success {
                try checkTrailing()
                return nil  // the literal `null`
            }
            if error == json_tokener_continue {
                throw JSONParseError(reason: "unexpected end of input", offset: buffer.count)
            }
            // After the terminator the tokener's offset counts from it: the error is at the end of the input.
            let offset = terminated ? buffer.count : Int(json_tokener_get_parse_end(tokener))
            throw JSONParseError(reason: String(cString: json_tokener_error_desc(error)), offset: offset)
        }
        do {
            try checkTrailing()
        } catch {
            json_object_put(object)
            throw error
        }
        return object
    }

    /// JSON's four whitespace bytes.
    @inline(__always)
    package static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// Converts a json-c object into a value; the caller keeps its reference.
    /// - Throws: for `NaN`, `Infinity` and `-Infinity`, which json-c accepts even in strict mode but are not JSON.
    init(borrowing object: OpaquePointer?) throws(JSONParseError) {
        guard let object else {
            self = .null
            return
        }
        switch json_object_get_type(object) {
        case json_type_null:
            self = .null
        case json_type_boolean:
            self = .bool(json_object_get_boolean(object) != 0)
        case json_type_int:
            let signed = json_object_get_int64(object)
            if signed == Int64.max {
                let unsigned = json_object_get_uint64(object)
                self = unsigned > UInt64(Int64.max) ? .uint(unsigned) : .int(signed)
            } else {
                self = .int(signed)
            }
        case json_type_double:
            let value = json_object_get_double(object)
            if !value.isFinite {
                // A number beyond Double's range (`1e400`) is JSON and reads as infinity; the literals are not JSON.
                let text = String(cString: json_object_get_string(object))
                if value.isNaN || text.contains("Infinity") {
                    throw JSONParseError(reason: "\(text) is not JSON")
                }
            }
            self = .double(value)
        case json_type_string:
            self = .string(Self.string(ofJSONCString: object))
        case json_type_array:
            let count = json_object_array_length(object)
            var array: [JSON] = []
            array.reserveCapacity(count)
            for position in 0..<count {
                array.append(try JSON(borrowing: json_object_array_get_idx(object, position)))
            }
            self = .array(array)
        case json_type_object:
            var result = JSONObject()
            result.reserveCapacity(Int(json_object_object_length(object)))
            try Self.forEachMember(ofJSONCObject: object) { key, value throws(JSONParseError) in
                result.appendUnique(key, try JSON(borrowing: value))
            }
            self = .object(result)
        default:
            self = .null
        }
    }

    /// The text of a json-c string object (invalid UTF-8 repaired; json-c 0.16 cannot validate it across reads).
    static func string(ofJSONCString object: OpaquePointer) -> String {
        let length = Int(json_object_get_string_len(object))
        return json_object_get_string(object)!.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    /// Calls `body` with each member of a json-c object, in order (the value nil for `null`).
    static func forEachMember<Failure: Error>(ofJSONCObject object: OpaquePointer,
                                              _ body: (String, OpaquePointer?) throws(Failure) -> Void) throws(Failure) {
        var iterator = json_object_iter_begin(object)
        var end = json_object_iter_end(object)
        while json_object_iter_equal(&iterator, &end) == 0 {
            try body(String(cString: json_object_iter_peek_name(&iterator)), json_object_iter_peek_value(&iterator))
            json_object_iter_next(&iterator)
        }
    }
}
