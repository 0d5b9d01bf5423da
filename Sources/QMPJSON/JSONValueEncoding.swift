// The Encoder behind `JSONValueEncoder`: containers that build a `JSON` value in place (see JSONCoding.swift).

// MARK: - Encoding

/// Where an encoded value lives until the tree is finished.
enum Slot {
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
final class ArrayBox {
    var elements: [Slot] = []
}

/// An object being encoded, keys in encoding order.
final class ObjectBox {
    var keys: [String] = []
    var members: [String: Slot] = [:]

    func set(_ key: String, _ slot: Slot) {
        if members.updateValue(slot, forKey: key) == nil { keys.append(key) }
    }
}

/// The `Encoder` behind ``JSONValueEncoder``; one per value being encoded.
final class ValueEncoder: Encoder {
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

struct KeyedEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
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

struct UnkeyedEncoding: UnkeyedEncodingContainer, JSONValueSink {
    let encoder: ValueEncoder
    let box: ArrayBox
    let codingPath: [any CodingKey]

    var count: Int { box.elements.count }

    private var nextPath: [any CodingKey] { codingPath + [JSONCodingKey(index: count)] }
    func put(_ json: JSON) { box.elements.append(.value(json)) }

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

struct SingleValueEncoding: SingleValueEncodingContainer, JSONValueSink {
    let encoder: ValueEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    func put(_ json: JSON) { encoder.slot = .value(json) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { put(try encoder.box128(value, at: codingPath)) }

    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { put(try encoder.box128(value, at: codingPath)) }

    mutating func encode<T: Encodable>(_ value: T) throws { put(try encoder.box(value, at: codingPath)) }
}

/// A container that stores each value it is given in one place (the next array element, the single value): the
/// primitive `encode` overloads that the unkeyed and single-value containers share, written once.
protocol JSONValueSink {
    /// Stores one encoded value.
    func put(_ json: JSON)
}

extension JSONValueSink {
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
}
