// The Decoder behind `JSONValueDecoder`: containers that read a `JSON` value (see JSONCoding.swift).

// MARK: - Decoding

/// Decodes a value of any `Decodable` type, handing ``JSON`` and ``JSONObject`` over unchanged.
func unboxValue<T: Decodable>(
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
func mismatch(_ type: Any.Type, _ json: JSON, _ path: [any CodingKey], expected: String) -> DecodingError {
    if case .null = json {
        return DecodingError.valueNotFound(
            type, DecodingError.Context(codingPath: path, debugDescription: "Expected \(expected) but found null instead.")
        )
    }
    return DecodingError.typeMismatch(
        type, DecodingError.Context(codingPath: path, debugDescription: "Expected \(expected) but found \(json.kindDescription) instead.")
    )
}

func unboxBool(_ json: JSON, _ path: [any CodingKey]) throws -> Bool {
    guard case .bool(let value) = json else { throw mismatch(Bool.self, json, path, expected: "a boolean") }
    return value
}

func unboxString(_ json: JSON, _ path: [any CodingKey]) throws -> String {
    guard case .string(let value) = json else { throw mismatch(String.self, json, path, expected: "a string") }
    return value
}

/// Decodes an integer exactly: out-of-range values and doubles with a fraction are data errors.
func unboxInteger<I: FixedWidthInteger>(_ json: JSON, as type: I.Type, _ path: [any CodingKey]) throws -> I {
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
func unboxFloat<F: BinaryFloatingPoint>(_ json: JSON, as type: F.Type, _ path: [any CodingKey]) throws -> F {
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
final class ValueDecoder: Decoder {
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

struct KeyedDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
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

struct UnkeyedDecoding: UnkeyedDecodingContainer {
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

struct SingleValueDecoding: SingleValueDecodingContainer {
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
