import Foundation
import Testing
@testable import QMP
@testable import QMPFuzzing

/// Replays the fuzzer's crash inputs and the hand-made seeds through the function the fuzzer runs.
struct FuzzRegressionTests {
    static let regressions = TestPaths.repository + "/Tests/QMPTests/FuzzRegressions"
    static let seeds = TestPaths.repository + "/Tests/QMPTests/FuzzSeeds"

    /// Every file in `directory` except its README.
    static func inputs(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0 != "README.md" }.sorted().map { directory + "/" + $0 }
    }

    @Test("every saved fuzz crash input now holds every invariant", arguments: inputs(in: regressions))
    func regression(path: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let violations = QMPFuzzHarness.check([UInt8](bytes))
        #expect(violations.isEmpty, "\(path): \(violations)")
    }

    @Test("every hand-made seed holds every invariant", arguments: inputs(in: seeds))
    func seed(path: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let violations = QMPFuzzHarness.check([UInt8](bytes))
        #expect(violations.isEmpty, "\(path): \(violations)")
    }

    @Test("the fuzzer's findings, stated directly")
    func findings() throws {
        // json-c accepts these literals even in strict mode; they are not JSON, and NaN never equals itself.
        for text in ["NaN", "[NaN]", #"{"a": Infinity}"#, "-Infinity"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSON.parse(text) }
            let parser = JSONStreamParser()
            #expect(throws: JSONStreamError.self, "\(text)") { try parser.feed(Array((text + "\r\n").utf8)) { _, _ in } }
            #expect(throws: JSONParseError.self, "\(text)") { try Array(text.utf8).withUnsafeBytes { try ParsedJSON(parsing: $0) } }
        }
        // The words inside strings are fine, for the deferred parse too.
        let words = try Array(#"{"a": "NaN Infinity", "b": [1.5]}"#.utf8).withUnsafeBytes { try ParsedJSON(parsing: $0) }
        #expect(words.rootNode["a"]?.stringValue == "NaN Infinity")
        #expect(words.rootNode.json == ["a": "NaN Infinity", "b": [1.5]])
        // A number beyond Double's range is JSON: it reads as infinity and writes back as a number that reads the same.
        let huge = try JSON.parse("[1e400, -1e400]")
        #expect(huge == [.double(.infinity), .double(-.infinity)])
        #expect(try JSON.parse(huge.serialized()) == huge)
        // A number split across reads is checked as a whole.
        let parser = JSONStreamParser()
        try parser.feed(Array(#"{"a":44"#.utf8)) { _, _ in Issue.record("no message is complete yet") }
        #expect(throws: JSONStreamError.self) { try parser.feed(Array("-}".utf8)) { _, _ in } }
    }

    @Test("the seeds are there, and the harness does see a broken invariant")
    func harnessCanFail() {
        #expect(Self.inputs(in: Self.seeds).count >= 10)
        // A planted violation: NaN serializes as null, which does not read back as the same value.
        var violations: [String] = []
        QMPFuzzHarness.checkValue(.double(.nan), text: Array("1".utf8), maxDepth: 128) { violations.append($0) }
        #expect(!violations.isEmpty, "a value that does not survive serialization must be reported")
    }
}
