import FaultInjection
import Foundation
import QMP
import Testing

/// Runs the built `qmp-probe` as a subprocess in the repository, for the table-driven command-line tests and the
/// README doc-test.
enum CommandLineTestSupport {
    /// The built `qmp-probe` (`swift build --build-tests` builds it next to the tests).
    static func executable() throws -> String {
        try #require(BuiltProducts.qmpProbe, "qmp-probe is not built next to the tests (\(BuiltProducts.directory)): run swift build --build-tests")
    }

    /// The libvirt corpus, required: a row over it fails, rather than passes, when it is absent.
    static func requireLibvirtCorpus() throws {
        _ = try #require(ProberTestSupport.libvirtCorpus, "../shared/corpus/libvirt is needed by this row")
    }

    /// Runs `row` in the repository and records every difference; returns the outcome (its scratch directory is
    /// removed).
    @discardableResult
    static func check(_ row: CommandLineCase) async throws -> Subprocess.Outcome {
        if row.arguments.contains(where: { $0.contains("../shared/") }) { try requireLibvirtCorpus() }
        let result = try await row.run(try executable(), in: ProberTestSupport.repository)
        defer { try? FileManager.default.removeItem(atPath: result.scratch) }
        for failure in result.failures { Issue.record("\(row): \(failure)\n\(result.outcome)") }
        return result.outcome
    }

    /// Runs `body` with the path of a new file `name` holding `contents`, in a private directory removed afterwards.
    static func withFile(_ name: String, contents: String, _ body: (String) async throws -> Void) async throws {
        let directory = try Subprocess.makeTemporaryDirectory(prefix: "qmp-cli-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try contents.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        try await body(directory + "/" + name)
    }

    /// The value at `path` in `json`: `/`-separated object keys, array indexes, or `KEY=VALUE` for the first array
    /// element whose `KEY` is the string `VALUE` (`accelerators/kvm/models/name=max/added`).
    static func value(at path: String, in json: JSON) -> JSON? {
        var current: JSON? = json
        for component in path.split(separator: "/").map(String.init) {
            guard let value = current else { return nil }
            if let array = value.arrayValue {
                if let index = Int(component), array.indices.contains(index) {
                    current = array[index]
                } else if let equals = component.firstIndex(of: "=") {
                    let key = String(component[..<equals])
                    let wanted = String(component[component.index(after: equals)...])
                    current = array.first { $0[key]?.stringValue == wanted }
                } else {
                    return nil
                }
            } else {
                current = value[component]
            }
        }
        return current
    }
}

/// A row whose stdout is JSON: the exit status, validity against `schemas/SCHEMA.schema.json`, and hand-checked
/// fields (path as in ``CommandLineTestSupport/value(at:in:)``, value as JSON text).
struct JSONCommandCase: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    var status: Int32
    var schema: String
    var fields: [(path: String, json: String)]

    var testDescription: String { (["qmp-probe"] + arguments).joined(separator: " ") }

    /// Runs the row and records every difference.
    func check() async throws {
        let outcome = try await CommandLineTestSupport.check(CommandLineCase(arguments, exit: status))
        let json = try JSON.parse(outcome.stdout)
        #expect(try await CompareTestSupport.schemaErrors(json, schema: schema) == nil, "\(testDescription)")
        for (path, text) in fields {
            let expected = try JSON.parse(text)
            let actual = CommandLineTestSupport.value(at: path, in: json)
            #expect(actual == expected, "\(testDescription): \(path) is \(actual.map { $0.serialized() } ?? "absent"), expected \(text)")
        }
    }
}
