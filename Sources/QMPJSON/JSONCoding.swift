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
private struct JSONCodingKey: CodingKey {
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
private func directJSON<T: Encodable>(_ value: T) -> JSON? {
    if let json = value as? JSON { return json }
    if let object = value as? JSONObject { return .object(object) }
    return nil
}

extension JSON {
    /// The JSON number for an integer, or nil when it fits neither `Int64` nor `UInt64`.
    fileprivate static func integer<I: BinaryInteger>(_ value: I) -> JSON? {
        if let signed = Int64(exactly: value) { return .int(signed) }
        if let unsigned = UInt64(exactly: value) { return .uint(unsigned) }
        return nil
    }

    /// The JSON number for an integer of at most 64 bits.
    fileprivate static func smallInteger<I: FixedWidthInteger>(_ value: I) -> JSON {
        integer(value)!
    }

    /// A short description of the value's kind, for error messages.
    fileprivate var kindDescription: String {
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

// MARK: - Encoding

/// Where an encoded value lives until the tree is finished.
private enum Slot {
    case value(JSON)
    case array(ArrayBox)
    case object(ObjectBox)
    case encoder(ValueEncoder)

    func resolve() -> JSON {
        switch self {
        case .value(let json):
            return json
        case .array(let box):
            return .array(box.elements.map { $0.resolve() })
        case .object(let box):
            var object = JSONObject()
            object.reserveCapacity(box.keys.count)
            for key in box.keys { object[key] = box.members[key]!.resolve() }
            return .object(object)
        case .encoder(let encoder):
            return encoder.slot?.resolve() ?? .object(JSONObject())
        }
    }
}

/// An array being encoded.
private final class ArrayBox {
    var elements: [Slot] = []
}

/// An object being encoded, keys in encoding order.
private final class ObjectBox {
    var keys: [String] = []
    var members: [String: Slot] = [:]

    func set(_ key: String, _ slot: Slot) {
        if members.updateValue(slot, forKey: key) == nil { keys.append(key) }
    }
}

/// The `Encoder` behind ``JSONValueEncoder``; one per value being encoded.
private final class ValueEncoder: Encoder {
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]
    var slot: Slot?

    init(codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: ObjectBox
        switch slot {
        case .object(let existing)?:
            box = existing
        case nil:
            box = ObjectBox()
            slot = .object(box)
        default:
            preconditionFailure("Keyed container requested after a different container or value was encoded.")
        }
        return KeyedEncodingContainer(KeyedEncoding(encoder: self, box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: ArrayBox
        switch slot {
        case .array(let existing)?:
            box = existing
        case nil:
            box = ArrayBox()
            slot = .array(box)
        default:
            preconditionFailure("Unkeyed container requested after a different container or value was encoded.")
        }
        return UnkeyedEncoding(encoder: self, box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueEncoding(encoder: self)
    }

    /// Encodes a nested value at `path` into a finished JSON value.
    func box<T: Encodable>(_ value: T, at path: [any CodingKey]) throws -> JSON {
        if let direct = directJSON(value) { return direct }
        let child = ValueEncoder(codingPath: path, userInfo: userInfo)
        try value.encode(to: child)
        return child.slot?.resolve() ?? .object(JSONObject())
    }

    /// Encodes a 128-bit integer, which must fit in `Int64` or `UInt64`.
    func box128<I: FixedWidthInteger>(_ value: I, at path: [any CodingKey]) throws -> JSON {
        guard let json = JSON.integer(value) else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(codingPath: path, debugDescription: "\(value) does not fit in a 64-bit JSON integer.")
            )
        }
        return json
    }
}

private struct KeyedEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: ValueEncoder
    let box: ObjectBox
    let codingPath: [any CodingKey]

    private func put(_ json: JSON, _ key: Key) { box.set(key.stringValue, .value(json)) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(.double(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.smallInteger(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.smallInteger(value), key) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws {
        put(try encoder.box128(value, at: codingPath + [key]), key)
    }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws {
        put(try encoder.box128(value, at: codingPath + [key]), key)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(try encoder.box(value, at: codingPath + [key]), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested: ObjectBox
        if case .object(let existing)? = box.members[key.stringValue] {
            nested = existing
        } else {
            nested = ObjectBox()
            box.set(key.stringValue, .object(nested))
        }
        return KeyedEncodingContainer(KeyedEncoding<NestedKey>(encoder: encoder, box: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested: ArrayBox
        if case .array(let existing)? = box.members[key.stringValue] {
            nested = existing
        } else {
            nested = ArrayBox()
            box.set(key.stringValue, .array(nested))
        }
        return UnkeyedEncoding(encoder: encoder, box: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(at: JSONCodingKey.super)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(at: key)
    }

    private func superEncoder(at key: any CodingKey) -> any Encoder {
        let child = ValueEncoder(codingPath: codingPath + [key], userInfo: encoder.userInfo)
        box.set(key.stringValue, .encoder(child))
        return child
    }
}

private struct UnkeyedEncoding: UnkeyedEncodingContainer {
    let encoder: ValueEncoder
    let box: ArrayBox
    let codingPath: [any CodingKey]

    var count: Int { box.elements.count }

    private var nextPath: [any CodingKey] { codingPath + [JSONCodingKey(index: count)] }
    private func put(_ json: JSON) { box.elements.append(.value(json)) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(.double(value)) }
    mutating func encode(_ value: Float) throws { put(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int8) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int16) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int32) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int64) throws { put(.int(value)) }
    mutating func encode(_ value: UInt) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt8) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt16) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt32) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt64) throws { put(.smallInteger(value)) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { put(try encoder.box128(value, at: nextPath)) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { put(try encoder.box128(value, at: nextPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws { put(try encoder.box(value, at: nextPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        let nested = ObjectBox()
        box.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedEncoding<NestedKey>(encoder: encoder, box: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        let nested = ArrayBox()
        box.elements.append(.array(nested))
        return UnkeyedEncoding(encoder: encoder, box: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let child = ValueEncoder(codingPath: nextPath, userInfo: encoder.userInfo)
        box.elements.append(.encoder(child))
        return child
    }
}

private struct SingleValueEncoding: SingleValueEncodingContainer {
    let encoder: ValueEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    private func put(_ json: JSON) { encoder.slot = .value(json) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(.double(value)) }
    mutating func encode(_ value: Float) throws { put(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int8) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int16) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int32) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: Int64) throws { put(.int(value)) }
    mutating func encode(_ value: UInt) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt8) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt16) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt32) throws { put(.smallInteger(value)) }
    mutating func encode(_ value: UInt64) throws { put(.smallInteger(value)) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { put(try encoder.box128(value, at: codingPath)) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { put(try encoder.box128(value, at: codingPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws { put(try encoder.box(value, at: codingPath)) }
}

// MARK: - Decoding

/// Decodes a value of any `Decodable` type, handing ``JSON`` and ``JSONObject`` over unchanged.
private func unboxValue<T: Decodable>(
    _ json: JSON, as type: T.Type, path: [any CodingKey], userInfo: [CodingUserInfoKey: Any]
) throws -> T {
    if type == JSON.self { return json as! T }
    if type == JSONObject.self {
        guard case .object(let object) = json else { throw mismatch(type, json, path, expected: "an object") }
        return object as! T
    }
    return try T(from: ValueDecoder(value: json, codingPath: path, userInfo: userInfo))
}

/// The error for `json` not being of the kind `type` needs.
private func mismatch(_ type: Any.Type, _ json: JSON, _ path: [any CodingKey], expected: String) -> DecodingError {
    if case .null = json {
        return DecodingError.valueNotFound(
            type, DecodingError.Context(codingPath: path, debugDescription: "Expected \(expected) but found null instead.")
        )
    }
    return DecodingError.typeMismatch(
        type, DecodingError.Context(codingPath: path, debugDescription: "Expected \(expected) but found \(json.kindDescription) instead.")
    )
}

private func unboxBool(_ json: JSON, _ path: [any CodingKey]) throws -> Bool {
    guard case .bool(let value) = json else { throw mismatch(Bool.self, json, path, expected: "a boolean") }
    return value
}

private func unboxString(_ json: JSON, _ path: [any CodingKey]) throws -> String {
    guard case .string(let value) = json else { throw mismatch(String.self, json, path, expected: "a string") }
    return value
}

/// Decodes an integer exactly: out-of-range values and doubles with a fraction are data errors.
private func unboxInteger<I: FixedWidthInteger>(_ json: JSON, as type: I.Type, _ path: [any CodingKey]) throws -> I {
    let result: I?
    switch json {
    case .int(let value): result = I(exactly: value)
    case .uint(let value): result = I(exactly: value)
    case .double(let value): result = I(exactly: value)
    default: throw mismatch(type, json, path, expected: "an integer")
    }
    guard let result else {
        throw DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: path, debugDescription: "Number \(json) does not fit in \(type).")
        )
    }
    return result
}

/// Decodes a floating-point number from any JSON number; a finite double too large for `F` is a data error.
private func unboxFloat<F: BinaryFloatingPoint>(_ json: JSON, as type: F.Type, _ path: [any CodingKey]) throws -> F {
    switch json {
    case .int(let value): return F(value)
    case .uint(let value): return F(value)
    case .double(let value):
        let result = F(value)
        if result.isInfinite && value.isFinite {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: path, debugDescription: "Number \(value) does not fit in \(type).")
            )
        }
        return result
    default:
        throw mismatch(type, json, path, expected: "a number")
    }
}

/// The `Decoder` behind ``JSONValueDecoder``; one per value being decoded.
private final class ValueDecoder: Decoder {
    let value: JSON
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    init(value: JSON, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.value = value
        self.codingPath = codingPath
        self.userInfo = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw mismatch([String: JSON].self, value, codingPath, expected: "an object")
        }
        return KeyedDecodingContainer(KeyedDecoding(decoder: self, object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let array) = value else {
            throw mismatch([JSON].self, value, codingPath, expected: "an array")
        }
        return UnkeyedDecoding(decoder: self, array: array, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueDecoding(decoder: self)
    }

    func unbox<T: Decodable>(_ json: JSON, as type: T.Type, at path: [any CodingKey]) throws -> T {
        try unboxValue(json, as: type, path: path, userInfo: userInfo)
    }
}

private struct KeyedDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    /// The member for `key` and its coding path, or `keyNotFound`.
    private func member(_ key: Key) throws -> (JSON, [any CodingKey]) {
        guard let json = object[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "No value associated with key \(key.stringValue.debugDescription)."
                )
            )
        }
        return (json, codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).0.isNull }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { let (j, p) = try member(key); return try unboxBool(j, p) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { let (j, p) = try member(key); return try unboxString(j, p) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { let (j, p) = try member(key); return try unboxFloat(j, as: type, p) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { let (j, p) = try member(key); return try unboxFloat(j, as: type, p) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { let (j, p) = try member(key); return try unboxInteger(j, as: type, p) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let (json, path) = try member(key)
        return try decoder.unbox(json, as: type, at: path)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (json, path) = try member(key)
        return try ValueDecoder(value: json, codingPath: path, userInfo: decoder.userInfo).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let (json, path) = try member(key)
        return try ValueDecoder(value: json, codingPath: path, userInfo: decoder.userInfo).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = JSONCodingKey.super
        return ValueDecoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key], userInfo: decoder.userInfo)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key], userInfo: decoder.userInfo)
    }
}

private struct UnkeyedDecoding: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let array: [JSON]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(decoder: ValueDecoder, array: [JSON], codingPath: [any CodingKey]) {
        self.decoder = decoder
        self.array = array
        self.codingPath = codingPath
    }

    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    /// Decodes the current element with `unbox` and moves past it only on success.
    private mutating func next<T>(_ type: T.Type, _ unbox: (JSON, [any CodingKey]) throws -> T) throws -> T {
        let path = codingPath + [JSONCodingKey(index: currentIndex)]
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, DecodingError.Context(codingPath: path, debugDescription: "Unkeyed container is at end.")
            )
        }
        let result = try unbox(array[currentIndex], path)
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSON.self,
                DecodingError.Context(
                    codingPath: codingPath + [JSONCodingKey(index: currentIndex)],
                    debugDescription: "Unkeyed container is at end."
                )
            )
        }
        guard array[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, unboxBool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type, unboxString) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) { try unboxFloat($0, as: type, $1) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) { try unboxFloat($0, as: type, $1) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type) { try unboxInteger($0, as: type, $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type) { try unboxInteger($0, as: type, $1) } }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try next(type) { try unboxInteger($0, as: type, $1) } }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try next(type) { try unboxInteger($0, as: type, $1) } }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = self.decoder
        return try next(type) { try decoder.unbox($0, as: type, at: $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let userInfo = decoder.userInfo
        return try next(KeyedDecodingContainer<NestedKey>.self) {
            try ValueDecoder(value: $0, codingPath: $1, userInfo: userInfo).container(keyedBy: type)
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let userInfo = decoder.userInfo
        return try next((any UnkeyedDecodingContainer).self) {
            try ValueDecoder(value: $0, codingPath: $1, userInfo: userInfo).unkeyedContainer()
        }
    }

    mutating func superDecoder() throws -> any Decoder {
        let userInfo = decoder.userInfo
        return try next((any Decoder).self) { ValueDecoder(value: $0, codingPath: $1, userInfo: userInfo) }
    }
}

private struct SingleValueDecoding: SingleValueDecodingContainer {
    let decoder: ValueDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }
    private var value: JSON { decoder.value }

    func decodeNil() -> Bool { value.isNull }

    func decode(_ type: Bool.Type) throws -> Bool { try unboxBool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try unboxString(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try unboxFloat(value, as: type, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try unboxFloat(value, as: type, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unboxInteger(value, as: type, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unboxInteger(value, as: type, codingPath) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { try unboxInteger(value, as: type, codingPath) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { try unboxInteger(value, as: type, codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.unbox(value, as: type, at: codingPath)
    }
}
