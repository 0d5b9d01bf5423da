import CJSONC
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOConcurrencyHelpers

/// One JSON document as json-c parsed it, kept in json-c's own form.
///
/// Reading a few members (``Node/subscript(_:)``, ``Node/stringValue``) costs nothing beyond json-c's parse;
/// the rest becomes a ``JSON`` value only when asked for (``Node/json``, or later through ``DeferredJSON``).
/// Recordings load this way: their large replies are converted when a replay delivers them, not when the file
/// is read.
///
/// The document is immutable; its conversions are serialized by one lock (json-c formats a number's text
/// lazily, which writes to the tree).
public final class ParsedJSON: @unchecked Sendable {
    /// The json-c root (one reference, released in `deinit`); nil for the literal `null`.
    fileprivate let root: OpaquePointer?
    fileprivate let lock = NIOLock()

    /// Parses exactly one JSON value from raw UTF-8 bytes (surrounding whitespace allowed).
    ///
    /// Everything `JSON.parse` rejects is rejected here too, at parse time, including the
    /// `NaN` and `Infinity` literals json-c accepts.
    /// - Throws: ``JSONParseError``.
    public init(parsing buffer: UnsafeRawBufferPointer, maxDepth: Int = 128) throws(JSONParseError) {
        root = try JSON.parseTree(buffer, maxDepth: maxDepth)
        // json-c takes NaN/Infinity even when strict; a full conversion rejects them. Only documents whose bytes
        // contain either word (almost never: QMP has no such literals) pay for that check now.
        if let root, Self.mayContainNonFiniteLiteral(buffer) {
            _ = try JSON(borrowing: root)
        }
    }

    deinit {
        if let root { json_object_put(root) }
    }

    /// The document's root.
    public var rootNode: Node { Node(document: self, object: root) }

    private static func mayContainNonFiniteLiteral(_ buffer: UnsafeRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress, buffer.count >= 3 else { return false }
        func contains(_ first: UInt8, _ second: UInt8, _ third: UInt8) -> Bool {
            var offset = 0
            while offset < buffer.count - 2, let hit = memchr(base + offset, Int32(first), buffer.count - 2 - offset) {
                let position = UnsafeRawPointer(hit) - base
                if buffer[position + 1] == second, buffer[position + 2] == third { return true }
                offset = position + 1
            }
            return false
        }
        return contains(UInt8(ascii: "N"), UInt8(ascii: "a"), UInt8(ascii: "N"))
            || contains(UInt8(ascii: "I"), UInt8(ascii: "n"), UInt8(ascii: "f"))
    }

    /// A value inside a ``ParsedJSON`` document (which it keeps alive).
    public struct Node: @unchecked Sendable {
        fileprivate let document: ParsedJSON
        /// Borrowed from the document's tree; nil for `null`.
        fileprivate let object: OpaquePointer?

        /// The member `key` when this is an object that has it.
        public subscript(key: String) -> Node? {
            guard let object, json_object_get_type(object) == json_type_object else { return nil }
            var member: OpaquePointer?
            guard json_object_object_get_ex(object, key, &member) != 0 else { return nil }
            return Node(document: document, object: member)
        }

        /// Whether this is an object.
        public var isObject: Bool {
            guard let object else { return false }
            return json_object_get_type(object) == json_type_object
        }

        /// The string, when this is one.
        public var stringValue: String? {
            guard let object, json_object_get_type(object) == json_type_string else { return nil }
            return JSON.string(ofJSONCString: object)
        }

        /// Whether this is `null`.
        public var isNull: Bool { object == nil }

        /// The boolean, when this is one.
        public var boolValue: Bool? {
            guard let object, json_object_get_type(object) == json_type_boolean else { return nil }
            return json_object_get_boolean(object) != 0
        }

        /// The elements, when this is an array.
        public var arrayElements: [Node]? {
            guard let object, json_object_get_type(object) == json_type_array else { return nil }
            let count = json_object_array_length(object)
            return (0..<count).map { Node(document: document, object: json_object_array_get_idx(object, $0)) }
        }

        /// The members in order, when this is an object.
        public var objectMembers: [(key: String, value: Node)]? {
            guard let object, json_object_get_type(object) == json_type_object else { return nil }
            var members: [(key: String, value: Node)] = []
            members.reserveCapacity(Int(json_object_object_length(object)))
            JSON.forEachMember(ofJSONCObject: object) { key, value in
                members.append((key, Node(document: document, object: value)))
            }
            return members
        }

        /// The strings, when this is an array of strings only.
        public var stringArray: [String]? {
            guard let object, json_object_get_type(object) == json_type_array else { return nil }
            let count = json_object_array_length(object)
            var strings: [String] = []
            strings.reserveCapacity(count)
            for position in 0..<count {
                guard let string = Node(document: document, object: json_object_array_get_idx(object, position)).stringValue
                else { return nil }
                strings.append(string)
            }
            return strings
        }

        /// This value converted to ``JSON`` now.
        public var json: JSON {
            document.lock.withLock {
                // Cannot throw: the document was checked for non-finite literals when parsed.
                (try? JSON(borrowing: object)) ?? .null
            }
        }

        /// This value, to be converted to ``JSON`` on first use.
        public var deferred: DeferredJSON { DeferredJSON(self) }
    }
}

/// A JSON value that is converted from json-c's form on first use, then kept (the json-c tree is released).
///
/// Equality and hashing are those of ``value``.
public final class DeferredJSON: @unchecked Sendable, Hashable {
    private enum State {
        case parsed(ParsedJSON.Node)
        case converted(JSON)
    }

    private let lock = NIOLock()
    private var state: State

    /// A value that is already converted.
    public init(_ value: JSON) {
        state = .converted(value)
    }

    /// A value converted from `node` on first use.
    public init(_ node: ParsedJSON.Node) {
        state = .parsed(node)
    }

    /// The value (converted now if it has not been yet).
    public var value: JSON {
        lock.withLock {
            switch state {
            case .converted(let value):
                return value
            case .parsed(let node):
                let value = node.json
                state = .converted(value)
                return value
            }
        }
    }

    /// Whether the value has been converted already.
    public var isConverted: Bool {
        lock.withLock {
            if case .converted = state { return true }
            return false
        }
    }

    public static func == (lhs: DeferredJSON, rhs: DeferredJSON) -> Bool { lhs === rhs || lhs.value == rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
