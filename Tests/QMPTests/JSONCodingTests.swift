import Foundation
import Testing

@testable import QMP

// MARK: - Fixtures

private enum Architecture: String, Codable, Equatable {
    case x86_64
    case aarch64
    case riscv64
}

private struct Device: Codable, Equatable {
    var name: String
    var bus: String?
    var slot: UInt8
}

private struct Machine: Codable, Equatable {
    var name: String
    var architecture: Architecture
    var memory: UInt64
    var cpus: Int
    var load: Double
    var ratio: Float
    var alias: String?
    var note: String?
    var tags: [String]
    var devices: [Device]
    var counters: [String: Int]
    var fallback: [Architecture]?
    var enabled: Bool
}

private enum Shape: Codable, Equatable {
    case point
    case circle(radius: Double)
    case rect(width: Int, height: Int)
}

private struct CPUDefinition: Codable, Equatable {
    var name: String
    var typename: String
    var unavailableFeatures: [String]
    var isStatic: Bool
    var migrationSafe: Bool?
    var aliasOf: String?

    enum CodingKeys: String, CodingKey {
        case name, typename
        case unavailableFeatures = "unavailable-features"
        case isStatic = "static"
        case migrationSafe = "migration-safe"
        case aliasOf = "alias-of"
    }
}

private struct Reply<Value: Codable & Equatable>: Codable, Equatable {
    var `return`: Value
}

private struct Command: Codable, Equatable {
    var execute: String
    var arguments: JSON?
    var props: [String: JSON]
}

private struct Ordered: Encodable {
    var zulu = 1
    var alpha = 2
    var mike = 3
    var bravo = 4
}

private struct NilHandling: Encodable {
    var present: Int? = 1
    var omitted: Int? = nil
    var explicit: Int? = nil

    enum CodingKeys: String, CodingKey { case present, omitted, explicit }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(present, forKey: .present)
        try container.encodeIfPresent(omitted, forKey: .omitted)
        try container.encode(explicit, forKey: .explicit)
    }
}

private struct Optionals: Decodable, Equatable {
    var missing: Int?
    var null: Int?
    var present: Int?
}

/// Records the keys a keyed container reports, in order.
private struct KeyRecorder: Decodable {
    var keys: [String]

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
    }
}

/// Uses nested containers and super encoders/decoders by hand.
private class Base: Codable {
    var id: Int

    init(id: Int) { self.id = id }

    enum CodingKeys: String, CodingKey { case id }
}

private final class Derived: Base {
    var position: (x: Int, y: Int)
    var history: [[Int]]

    init(id: Int, position: (x: Int, y: Int), history: [[Int]]) {
        self.position = position
        self.history = history
        super.init(id: id)
    }

    enum CodingKeys: String, CodingKey { case position, history }
    enum PositionKeys: String, CodingKey { case x, y }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var position = container.nestedContainer(keyedBy: PositionKeys.self, forKey: .position)
        try position.encode(self.position.x, forKey: .x)
        try position.encode(self.position.y, forKey: .y)
        var history = container.nestedUnkeyedContainer(forKey: .history)
        for row in self.history {
            var nested = history.nestedUnkeyedContainer()
            for value in row { try nested.encode(value) }
        }
        try super.encode(to: container.superEncoder())
    }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let position = try container.nestedContainer(keyedBy: PositionKeys.self, forKey: .position)
        self.position = (try position.decode(Int.self, forKey: .x), try position.decode(Int.self, forKey: .y))
        var history = try container.nestedUnkeyedContainer(forKey: .history)
        var rows: [[Int]] = []
        while !history.isAtEnd {
            var nested = try history.nestedUnkeyedContainer()
            var row: [Int] = []
            while !nested.isAtEnd { row.append(try nested.decode(Int.self)) }
            rows.append(row)
        }
        self.history = rows
        try super.init(from: container.superDecoder())
    }
}

private let encoder = JSONValueEncoder()
private let decoder = JSONValueDecoder()

private func pathStrings(_ path: [any CodingKey]) -> [String] {
    path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
}

// MARK: - Round trips

@Test func roundTripsNestedModel() throws {
    let machine = Machine(
        name: "pc-q35",
        architecture: .x86_64,
        memory: UInt64.max,
        cpus: 4,
        load: 0.75,
        ratio: 1.5,
        alias: "q35",
        note: nil,
        tags: ["kvm", "tcg"],
        devices: [Device(name: "virtio-net", bus: "pci.0", slot: 3), Device(name: "isa-serial", bus: nil, slot: 0)],
        counters: ["boots": 2, "resets": 0],
        fallback: [.aarch64, .riscv64],
        enabled: true
    )
    let json = try encoder.encode(machine)

    #expect(json["name"] == "pc-q35")
    #expect(json["architecture"] == "x86_64")
    #expect(json["memory"] == .uint(UInt64.max))
    #expect(json["cpus"] == .int(4))
    #expect(json["ratio"] == .double(1.5))
    #expect(json["note"] == nil, "encodeIfPresent omits a nil optional")
    #expect(json["devices"] == [["name": "virtio-net", "bus": "pci.0", "slot": 3], ["name": "isa-serial", "slot": 0]])
    #expect(json["counters"] == ["boots": 2, "resets": 0])

    let decoded = try decoder.decode(Machine.self, from: json)
    #expect(decoded == machine)
}

@Test func roundTripsEnumsWithAssociatedValues() throws {
    let shapes: [Shape] = [.point, .circle(radius: 2.5), .rect(width: 3, height: 4)]
    let json = try encoder.encode(shapes)
    #expect(json == [["point": [:]], ["circle": ["radius": 2.5]], ["rect": ["width": 3, "height": 4]]])
    #expect(try decoder.decode([Shape].self, from: json) == shapes)
}

@Test func roundTripsNestedContainersAndSuperEncoder() throws {
    let value = Derived(id: 7, position: (x: 1, y: -2), history: [[1, 2], [], [3]])
    let json = try encoder.encode(value)
    #expect(json == ["position": ["x": 1, "y": -2], "history": [[1, 2], [], [3]], "super": ["id": 7]])
    #expect(json.objectValue?.keys == ["position", "history", "super"])

    let decoded = try decoder.decode(Derived.self, from: json)
    #expect(decoded.id == 7)
    #expect(decoded.position == (1, -2))
    #expect(decoded.history == [[1, 2], [], [3]])
}

@Test func encodesTopLevelScalars() throws {
    #expect(try encoder.encode(42) == .int(42))
    #expect(try encoder.encode("text") == .string("text"))
    #expect(try encoder.encode(Optional<Int>.none) == .null)
    #expect(try encoder.encode([true, false]) == [true, false])
}

// MARK: - Numbers

@Test func encodesIntegersOfEveryWidth() throws {
    #expect(try encoder.encode(Int8.min) == .int(-128))
    #expect(try encoder.encode(Int16(-300)) == .int(-300))
    #expect(try encoder.encode(Int32.max) == .int(Int64(Int32.max)))
    #expect(try encoder.encode(Int64.min) == .int(Int64.min))
    #expect(try encoder.encode(UInt8.max) == .int(255))
    #expect(try encoder.encode(UInt32.max) == .int(Int64(UInt32.max)))
    #expect(try encoder.encode(UInt64(Int64.max)) == .int(Int64.max))
    #expect(try encoder.encode(UInt64(Int64.max) + 1) == .uint(UInt64(Int64.max) + 1))
    #expect(try encoder.encode(UInt.max) == .uint(UInt64(UInt.max)))
    #expect(try encoder.encode(Float(0.5)) == .double(0.5))
    #expect(try encoder.encode(2.25) == .double(2.25))
}

@Test func encodesWide128BitIntegersOnlyWhenTheyFit() throws {
    guard #available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *) else { return }
    #expect(try encoder.encode(Int128(-5)) == .int(-5))
    #expect(try encoder.encode(UInt128(UInt64.max)) == .uint(UInt64.max))
    #expect(throws: EncodingError.self) { try encoder.encode(UInt128(UInt64.max) + 1) }
    #expect(try decoder.decode(Int128.self, from: .uint(UInt64.max)) == Int128(UInt64.max))
}

@Test func decodesIntegersExactly() throws {
    #expect(try decoder.decode(UInt8.self, from: 255) == 255)
    #expect(try decoder.decode(Int.self, from: .double(3.0)) == 3)
    #expect(try decoder.decode(UInt64.self, from: .uint(UInt64.max)) == UInt64.max)
    #expect(try decoder.decode(Int64.self, from: .int(Int64.min)) == Int64.min)
    #expect(try decoder.decode(Double.self, from: 7) == 7.0)
    #expect(try decoder.decode(Double.self, from: .uint(UInt64.max)) == Double(UInt64.max))
    #expect(try decoder.decode(Float.self, from: 0.5) == 0.5)
}

@Test(arguments: [
    (JSON.int(300), "UInt8"),
    (JSON.int(-1), "UInt"),
    (JSON.double(3.5), "Int"),
    (JSON.uint(UInt64.max), "Int64"),
    (JSON.int(128), "Int8"),
])
func rejectsInexactIntegers(json: JSON, type: String) throws {
    let error = try #require(throws: DecodingError.self) {
        switch type {
        case "UInt8": _ = try decoder.decode(UInt8.self, from: json)
        case "UInt": _ = try decoder.decode(UInt.self, from: json)
        case "Int": _ = try decoder.decode(Int.self, from: json)
        case "Int64": _ = try decoder.decode(Int64.self, from: json)
        default: _ = try decoder.decode(Int8.self, from: json)
        }
    }
    guard case .dataCorrupted = error else {
        Issue.record("expected dataCorrupted, got \(error)")
        return
    }
}

@Test func rejectsDoubleTooLargeForFloat() throws {
    let error = try #require(throws: DecodingError.self) { try decoder.decode(Float.self, from: .double(1e300)) }
    guard case .dataCorrupted = error else {
        Issue.record("expected dataCorrupted, got \(error)")
        return
    }
}

@Test func inexactIntegerInsideModelReportsItsPath() throws {
    let json: JSON = ["name": "nic", "slot": 300]
    let error = try #require(throws: DecodingError.self) { try decoder.decode(Device.self, from: json) }
    guard case .dataCorrupted(let context) = error else {
        Issue.record("expected dataCorrupted, got \(error)")
        return
    }
    #expect(pathStrings(context.codingPath) == ["slot"])
}

// MARK: - Nil and optionals

@Test func encoderHandlesNilAsOmittedOrNull() throws {
    let json = try encoder.encode(NilHandling())
    #expect(json.objectValue?.keys == ["present", "explicit"])
    #expect(json["explicit"] == .null)
}

@Test func decodesMissingAndNullOptionalsAsNil() throws {
    let value = try decoder.decode(Optionals.self, from: ["null": nil, "present": 5])
    #expect(value == Optionals(missing: nil, null: nil, present: 5))
    #expect(try decoder.decode(Int?.self, from: .null) == nil)
    #expect(try decoder.decode([Int?].self, from: [1, nil, 3]) == [1, nil, 3])
}

// MARK: - Errors

@Test func typeMismatchCarriesCodingPath() throws {
    let json: JSON = [
        "name": "pc", "architecture": "x86_64", "memory": 1, "cpus": 1, "load": 0, "ratio": 0,
        "tags": [], "counters": [:], "enabled": true,
        "devices": [["name": "a", "slot": 1], ["name": 5, "slot": 2]],
    ]
    let error = try #require(throws: DecodingError.self) { try decoder.decode(Machine.self, from: json) }
    guard case .typeMismatch(let type, let context) = error else {
        Issue.record("expected typeMismatch, got \(error)")
        return
    }
    #expect(ObjectIdentifier(type) == ObjectIdentifier(String.self))
    #expect(pathStrings(context.codingPath) == ["devices", "[1]", "name"])
}

@Test func keyNotFoundNamesTheKey() throws {
    let json: JSON = ["return": [["name": "Haswell", "unavailable-features": [], "static": false]]]
    let error = try #require(throws: DecodingError.self) {
        try decoder.decode(Reply<[CPUDefinition]>.self, from: json)
    }
    guard case .keyNotFound(let key, let context) = error else {
        Issue.record("expected keyNotFound, got \(error)")
        return
    }
    #expect(key.stringValue == "typename")
    #expect(pathStrings(context.codingPath) == ["return", "[0]"])
}

@Test func nullForRequiredValueIsValueNotFound() throws {
    let error = try #require(throws: DecodingError.self) {
        try decoder.decode(Device.self, from: ["name": nil, "slot": 1])
    }
    guard case .valueNotFound(_, let context) = error else {
        Issue.record("expected valueNotFound, got \(error)")
        return
    }
    #expect(pathStrings(context.codingPath) == ["name"])
}

@Test func wrongContainerKindIsTypeMismatch() throws {
    #expect(throws: DecodingError.self) { try decoder.decode(Device.self, from: [1, 2]) }
    #expect(throws: DecodingError.self) { try decoder.decode([Int].self, from: ["a": 1]) }
    #expect(throws: DecodingError.self) { try decoder.decode(Bool.self, from: 1) }
    #expect(throws: DecodingError.self) { try decoder.decode(String.self, from: true) }
}

@Test func unkeyedContainerAtEndIsValueNotFound() throws {
    struct Pair: Decodable {
        var first: Int
        var second: Int
        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            first = try container.decode(Int.self)
            second = try container.decode(Int.self)
        }
    }
    let error = try #require(throws: DecodingError.self) { try decoder.decode(Pair.self, from: [1]) }
    guard case .valueNotFound(_, let context) = error else {
        Issue.record("expected valueNotFound, got \(error)")
        return
    }
    #expect(pathStrings(context.codingPath) == ["[1]"])
}

// MARK: - Key order and dictionaries

@Test func encoderPreservesKeyOrder() throws {
    let json = try encoder.encode(Ordered())
    #expect(json.objectValue?.keys == ["zulu", "alpha", "mike", "bravo"])
    #expect(json.serialized() == #"{"zulu":1,"alpha":2,"mike":3,"bravo":4}"#)
}

@Test func decoderReportsKeysInOrder() throws {
    let recorder = try decoder.decode(KeyRecorder.self, from: ["c": 1, "a": 2, "b": 3])
    #expect(recorder.keys == ["c", "a", "b"])
}

@Test func decodesDictionaries() throws {
    let json: JSON = ["one": 1, "two": 2, "three": 3]
    #expect(try decoder.decode([String: Int].self, from: json) == ["one": 1, "two": 2, "three": 3])
    #expect(try decoder.decode([String: [Int]].self, from: ["a": [1], "b": []]) == ["a": [1], "b": []])
    #expect(try encoder.encode(["only": true]) == ["only": true])
}

// MARK: - JSON passthrough

@Test func jsonValuesPassThroughEncoder() throws {
    let arguments: JSON = ["size": .uint(UInt64.max), "z": 1, "a": [nil, 2.5, "x"]]
    let command = Command(execute: "object-add", arguments: arguments, props: ["id": "obj0", "opts": ["b": 1, "a": 2]])
    let json = try encoder.encode(command)

    #expect(json["arguments"] == arguments)
    #expect(json["arguments"]?.objectValue?.keys == ["size", "z", "a"])
    #expect(json["arguments"]?["size"] == .uint(UInt64.max))
    #expect(json["props"]?["opts"]?.objectValue?.keys == ["b", "a"])
    #expect(try decoder.decode(Command.self, from: json) == command)

    #expect(try encoder.encode(arguments) == arguments)
    #expect(try encoder.encode(["k": 1] as JSONObject) == ["k": 1])
}

@Test func jsonValuesPassThroughDecoder() throws {
    let json: JSON = [
        "execute": "qom-list",
        "arguments": ["path": "/machine", "depth": .uint(UInt64.max), "ordered": ["y": 1, "x": 2]],
        "props": ["raw": [1, "two", nil, ["three": 3.0]]],
    ]
    let command = try decoder.decode(Command.self, from: json)
    #expect(command.arguments == json["arguments"])
    #expect(command.arguments?["depth"] == .uint(UInt64.max))
    #expect(command.arguments?["ordered"]?.objectValue?.keys == ["y", "x"])
    #expect(command.props["raw"] == [1, "two", nil, ["three": 3.0]])

    let absent = try decoder.decode(Command.self, from: ["execute": "qmp_capabilities", "props": [:]])
    #expect(absent.arguments == nil)
    #expect(try decoder.decode(JSON.self, from: json) == json)
    #expect(try decoder.decode(JSONObject.self, from: ["a": 1]).keys == ["a"])
    #expect(throws: DecodingError.self) { try decoder.decode(JSONObject.self, from: [1]) }
}

// MARK: - QMP replies

@Test func decodesQueryCPUDefinitionsReply() throws {
    let json: JSON = [
        "return": [
            [
                "name": "Haswell", "typename": "Haswell-x86_64-cpu",
                "unavailable-features": ["pku", "pku"], "static": false, "migration-safe": true,
            ],
            [
                "name": "max", "typename": "max-x86_64-cpu",
                "unavailable-features": [], "static": false, "alias-of": "host",
            ],
        ]
    ]
    let reply = try decoder.decode(Reply<[CPUDefinition]>.self, from: json)
    #expect(reply.return.count == 2)

    let haswell = try #require(reply.return.first)
    #expect(haswell.name == "Haswell")
    #expect(haswell.typename == "Haswell-x86_64-cpu")
    #expect(haswell.unavailableFeatures == ["pku", "pku"])
    #expect(haswell.isStatic == false)
    #expect(haswell.migrationSafe == true)
    #expect(haswell.aliasOf == nil)
    #expect(reply.return[1].migrationSafe == nil)
    #expect(reply.return[1].aliasOf == "host")

    let reencoded = try encoder.encode(reply)
    #expect(reencoded == json)
    #expect(reencoded["return"]?.arrayValue?.first?.objectValue?.keys
        == ["name", "typename", "unavailable-features", "static", "migration-safe"])
}

// MARK: - Other coders

@Test func jsonCodesThroughFoundationCoders() throws {
    let value: JSON = [
        "null": nil, "flag": true, "int": -3, "big": .uint(UInt64.max), "pi": 3.25,
        "text": "héllo", "list": [1, "two", [false]], "object": ["nested": [:]],
    ]
    let data = try Foundation.JSONEncoder().encode(value)
    let decoded = try Foundation.JSONDecoder().decode(JSON.self, from: data)
    #expect(decoded == value)
    #expect(decoded["big"] == .uint(UInt64.max))
    #expect(decoded["int"] == .int(-3))

    let object = try Foundation.JSONDecoder().decode(JSONObject.self, from: Foundation.JSONEncoder().encode(["a": 1] as JSONObject))
    #expect(object == ["a": 1])
}

/// `JSONObject` of more than 12 members: key positions built on first lookup, kept right through copies and changes.
@Test func largeObjectLookupsThroughCopiesAndChanges() throws {
    var object = JSONObject()
    for number in 0..<40 { object["k\(number)"] = .int(Int64(number)) }
    #expect(object["k17"] == 17 && object["k39"] == 39 && object["missing"] == nil)
    // A copy shares the built positions until one side changes.
    var copy = object
    copy["k40"] = 40
    #expect(copy["k40"] == 40 && object["k40"] == nil && object.count == 40 && copy.count == 41)
    copy["k3"] = nil
    #expect(copy["k3"] == nil && copy["k4"] == 4 && copy["k40"] == 40 && object["k3"] == 3)
    #expect(copy.keys.firstIndex(of: "k4") == 3)
    object["k0"] = "changed"
    #expect(object["k0"] == "changed" && copy["k0"] == 0)
    // Appends after lookups, on a uniquely held object, keep the positions in step.
    for number in 41..<60 {
        copy["k\(number)"] = .int(Int64(number))
        #expect(copy["k\(number)"] == .int(Int64(number)) && copy["k\(number - 1)"] != nil)
    }
    // Parsed objects (appended without lookups) find every key too, and compare by content.
    let parsed = try JSON.parse(JSON.object(copy).serialized())
    #expect(parsed == .object(copy))
    for key in copy.keys { #expect(parsed[key] == copy[key]) }
    // Shrinking below the threshold goes back to linear search and still finds everything.
    var small = copy
    for key in copy.keys.dropFirst(5) { small[key] = nil }
    #expect(small.count == 5 && small.keys.allSatisfy { small[$0] == copy[$0] })
}
