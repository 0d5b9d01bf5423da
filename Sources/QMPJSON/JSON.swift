import NIOConcurrencyHelpers

/// A JSON value as QMP carries it: ordered object keys, exact 64-bit integers,
/// doubles, UTF-8 strings and null.
///
/// This is the one Swift type that wraps json-c: parsing (`JSON.parse(_:maxDepth:)`
/// and ``JSONStreamParser``) goes through json-c's tokener; nothing outside
/// `Sources/QMP/JSON` touches the C API.
public enum JSON: Sendable {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits in `Int64`.
    case int(Int64)
    /// An integer above `Int64.max` (QEMU sends `uint64` values, sizes for example).
    case uint(UInt64)
    /// A number with a fraction or an exponent.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSON])
    /// An object, keys in the order they arrived.
    case object(JSONObject)
}

/// A JSON object that keeps its keys in insertion order and looks them up in O(1).
///
/// Equality ignores key order, as JSON's does: `{"a":1,"b":2}` equals `{"b":2,"a":1}`.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The keys, in order.
    public private(set) var keys: [String] = []
    /// The values, parallel to ``keys``.
    public private(set) var values: [JSON] = []
    /// Key positions of larger objects (small ones are searched linearly), built on the first lookup: objects that
    /// are only iterated (most of a probe's expansions) never hash their keys. Shared by copies until one of them
    /// changes (then it gets a fresh, unbuilt one).
    private var index: KeyIndex?
    private static let indexThreshold = 12

    /// The lazily built key positions of one object's keys.
    private final class KeyIndex: @unchecked Sendable {
        private let lock = NIOLock()
        private var positions: [String: Int]?

        /// The position of `key` in `keys` (the keys this index belongs to).
        func position(of key: String, in keys: [String]) -> Int? {
            lock.withLock {
                if positions == nil { positions = Dictionary(keys.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }) }
                return positions![key]
            }
        }

        /// Records an appended key, when the positions are built already.
        func appended(_ key: String, at position: Int) {
            lock.withLock { positions?[key] = position }
        }
    }

    /// An empty object.
    public init() {}

    /// An object from key/value pairs; a repeated key keeps its first position and its last value.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSON) {
        for (key, value) in pairs { self[key] = value }
    }

    /// An object from a dictionary literal, in the literal's order.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(elements)
    }

    /// The number of members.
    public var count: Int { keys.count }
    /// Whether the object has no members.
    public var isEmpty: Bool { keys.isEmpty }

    private func position(of key: String) -> Int? {
        if let index { return index.position(of: key, in: keys) }
        return keys.firstIndex(of: key)
    }

    /// Keeps the index in step with an appended key: updated in place when this object alone holds it, else
    /// replaced by a fresh one (built again on the next lookup).
    private mutating func indexAppended(_ key: String) {
        if index != nil {
            if isKnownUniquelyReferenced(&index!) {
                index!.appended(key, at: keys.count - 1)
            } else {
                index = KeyIndex()
            }
        } else if keys.count > Self.indexThreshold {
            index = KeyIndex()
        }
    }

    /// The value for `key`, or nil; assigning nil removes the member.
    public subscript(key: String) -> JSON? {
        get { position(of: key).map { values[$0] } }
        set {
            if let position = position(of: key) {
                if let newValue {
                    values[position] = newValue
                } else {
                    keys.remove(at: position)
                    values.remove(at: position)
                    if index != nil { index = keys.count > Self.indexThreshold ? KeyIndex() : nil }
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
                indexAppended(key)
            }
        }
    }

    /// Appends a member known not to be present yet (parsers use it; json-c already resolved duplicates).
    mutating func appendUnique(_ key: String, _ value: JSON) {
        keys.append(key)
        values.append(value)
        indexAppended(key)
    }

    /// Reserves room for `capacity` members.
    public mutating func reserveCapacity(_ capacity: Int) {
        keys.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// Iterates the members in order.
    public func makeIterator() -> Iterator {
        Iterator(keys: keys, values: values)
    }

    /// The members in order (a concrete iterator: no type-erased closure per member).
    public struct Iterator: IteratorProtocol, Sendable {
        fileprivate let keys: [String]
        fileprivate let values: [JSON]
        fileprivate var position = 0

        public mutating func next() -> (key: String, value: JSON)? {
            guard position < keys.count else { return nil }
            defer { position += 1 }
            return (keys[position], values[position])
        }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (position, key) in lhs.keys.enumerated() {
            guard let other = rhs[key], other == lhs.values[position] else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var combined = 0
        for (position, key) in keys.enumerated() {
            var member = Hasher()
            member.combine(key)
            member.combine(values[position])
            combined ^= member.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }
}

extension JSON: Hashable {
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.uint(a), .uint(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.int(a), .double(b)), let (.double(b), .int(a)): return Double(a) == b && Int64(exactly: b) == a
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i): hasher.combine(Double(i))
        case .uint(let u): hasher.combine(u)
        case .double(let d): hasher.combine(d)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o): hasher.combine(o)
        }
    }
}

// MARK: - Accessors

extension JSON {
    /// The member `key` when this is an object, else nil.
    public subscript(key: String) -> JSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The object, when this is one.
    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// The array, when this is one.
    public var arrayValue: [JSON]? {
        if case .array(let array) = self { return array }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The boolean, when this is one.
    public var boolValue: Bool? {
        if case .bool(let bool) = self { return bool }
        return nil
    }

    /// The integer, when this is an integer that fits in `Int64` (or a double with an exact integer value).
    public var int64Value: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// The number as a `Double`, when this is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .uint(let u): return Double(u)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

// MARK: - Literals

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

extension JSON: CustomStringConvertible {
    /// The compact JSON text of the value.
    public var description: String { serialized() }
}
