// Codable support for `JSON`: an `Encoder` that builds a `JSON` value and a `Decoder` that reads one,
// with no detour through text or Foundation.

// MARK: - Public API

/// Encodes `Encodable` values straight into ``JSON``.
///
/// Object keys keep the order in which they were encoded. Integers of every width become
/// ``JSON/int(_:)`` (or ``JSON/uint(_:)`` above `Int64.max`), floating-point numbers become
/// ``JSON/double(_:)``, and ``JSON`` or ``JSONObject`` values met along the way are embedded unchanged.
public struct JSONValueEncoder: Sendable {
    /// Contextual information handed to the values being encoded.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// Creates an encoder.
    public init() {}

    /// Encodes `value` as a ``JSON`` value.
    ///
    /// - Parameter value: The value to encode.
    /// - Returns: The JSON representation of `value`.
    /// - Throws: `EncodingError.invalidValue` when `value` encodes nothing or a number does not fit
    ///   in JSON's 64-bit integers.
    public func encode<T: Encodable>(_ value: T) throws -> JSON {
        if let direct = directJSON(value) { return direct }
        let encoder = ValueEncoder(codingPath: [], userInfo: userInfo.mapValues { $0 as Any })
        try value.encode(to: encoder)
        guard let slot = encoder.slot else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values.")
            )
        }
        return slot.resolve()
    }
}

/// Decodes `Decodable` values straight from ``JSON``.
///
/// Integer decoding is exact: a number that does not fit the requested type, or a double with a
/// fraction decoded as an integer, throws `DecodingError.dataCorrupted`. A ``JSON`` or ``JSONObject``
/// requested by a model is handed over unchanged.
public struct JSONValueDecoder: Sendable {
    /// Contextual information handed to the values being decoded.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// Creates a decoder.
    public init() {}

    /// Decodes a value of `type` from `json`.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - json: The JSON value to read.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError` describing the first mismatch, with its coding path.
    public func decode<T: Decodable>(_ type: T.Type, from json: JSON) throws -> T {
        try unboxValue(json, as: type, path: [], userInfo: userInfo.mapValues { $0 as Any })
    }
}

// MARK: - Codable conformances

extension JSON: Codable {
    /// Encodes this value; ``JSONValueEncoder`` embeds it unchanged, other encoders get its structure.
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? ValueEncoder {
            encoder.slot = .value(self)
            return
        }
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .int(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .uint(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .double(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .string(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements { try container.encode(element) }
        case .object(let object):
            try object.encode(to: encoder)
        }
    }

    /// Decodes any JSON value; ``JSONValueDecoder`` hands over its value unchanged.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? ValueDecoder {
            self = decoder.value
            return
        }
        if let container = try? decoder.container(keyedBy: JSONCodingKey.self) {
            self = .object(try JSONObject(from: container))
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var elements: [JSON] = []
            if let count = container.count { elements.reserveCapacity(count) }
            while !container.isAtEnd { elements.append(try container.decode(JSON.self)) }
            self = .array(elements)
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .uint(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "Value is not representable as JSON.")
            )
        }
    }
}

extension JSONObject: Codable {
    /// Encodes the members in order; ``JSONValueEncoder`` embeds the object unchanged.
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? ValueEncoder {
            encoder.slot = .value(.object(self))
            return
        }
        var container = encoder.container(keyedBy: JSONCodingKey.self)
        for (key, value) in self {
            try container.encode(value, forKey: JSONCodingKey(stringValue: key))
        }
    }

    /// Decodes an object; ``JSONValueDecoder`` hands over its object unchanged.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? ValueDecoder, case .object(let object) = decoder.value {
            self = object
            return
        }
        self = try JSONObject(from: decoder.container(keyedBy: JSONCodingKey.self))
    }

    fileprivate init(from container: KeyedDecodingContainer<JSONCodingKey>) throws {
        self.init()
        let keys = container.allKeys
        reserveCapacity(keys.count)
        for key in keys {
            self[key.stringValue] = try container.decode(JSON.self, forKey: key)
        }
    }
}

// MARK: - Shared helpers

/// A coding key for object members and array positions.
struct JSONCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }

    init(index: Int) {
        self.stringValue = "Index \(index)"
        self.intValue = index
    }

    static let `super` = JSONCodingKey(stringValue: "super")
}

/// The value itself when it already is JSON, so it is embedded rather than re-encoded.
func directJSON<T: Encodable>(_ value: T) -> JSON? {
    if let json = value as? JSON { return json }
    if let object = value as? JSONObject { return .object(object) }
    return nil
}

extension JSON {
    /// The JSON number for an integer, or nil when it fits neither `Int64` nor `UInt64`.
    static func integer<I: BinaryInteger>(_ value: I) -> JSON? {
        if let signed = Int64(exactly: value) { return .int(signed) }
        if let unsigned = UInt64(exactly: value) { return .uint(unsigned) }
        return nil
    }

    /// The JSON number for an integer of at most 64 bits.
    static func smallInteger<I: FixedWidthInteger>(_ value: I) -> JSON {
        integer(value)!
    }

    /// A short description of the value's kind, for error messages.
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .uint, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
