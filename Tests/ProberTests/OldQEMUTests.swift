import Foundation
import Prober
import QMP
import Testing

/// A QEMU older than 2.9 (no expansion, no unavailable-features): the probe says what it could not determine.
struct OldQEMUTests {
    /// A QEMU 2.8-like x86 session, written by hand from the 2.8 QAPI schema: definitions carry names only,
    /// `query-cpu-model-expansion` does not exist.
    static var session: ReplaySession {
        var header = SessionHeader(arch: "x86_64", accelerator: "kvm")
        let greeting: JSON = ["version": ["qemu": ["micro": 0, "minor": 8, "major": 2], "package": ""], "capabilities": []]
        header.greeting = greeting
        func exchange(_ name: String, _ reply: JSON, arguments: JSON? = nil) -> ReplaySession.Exchange {
            var command: JSONObject = ["execute": .string(name)]
            if let arguments { command["arguments"] = arguments }
            return .init(command: .object(command), line: 0, reply: reply)
        }
        let notFound: JSON = ["error": ["class": "CommandNotFound", "desc": "The command query-cpu-model-expansion has not been found"]]
        return ReplaySession(source: "qemu-2.8", header: header, greeting: greeting, exchanges: [
            exchange("qmp_capabilities", ["return": [:]]),
            exchange("query-target", ["return": ["arch": "x86_64"]]),
            exchange("query-kvm", ["return": ["enabled": true, "present": true]]),
            exchange("query-commands", ["return": [["name": "query-cpu-definitions"], ["name": "query-commands"], ["name": "query-kvm"]]]),
            exchange("query-qmp-schema", ["error": ["class": "CommandNotFound", "desc": "The command query-qmp-schema has not been found"]]),
            exchange("query-cpu-definitions", ["return": [["name": "qemu64"], ["name": "Haswell"]]]),
            exchange("query-cpu-model-expansion", notFound, arguments: ["type": "static", "model": ["name": "host"]]),
        ])
    }

    @Test("models are listed, usability and expansions are unknown, and the notes say why")
    func oldQEMU() async throws {
        let client = QMPClient()
        try await client.connect(using: ReplayTransport(session: Self.session, mode: .matching))
        let probe = try await ProbeGatherer(client: client, accelerator: "kvm").gather()
        await client.close()
        #expect(probe.version.description == "2.8.0")
        #expect(probe.definitions?.map(\.name) == ["qemu64", "Haswell"])
        #expect(probe.support.source == "query-commands")
        #expect(probe.hostModel == nil)
        let report = ProbeReport.compute(probes: [probe], source: "test")
        let models = report.accelerators[0].models
        #expect(models.allSatisfy { $0.usable == nil && $0.blockers == nil && $0.enabled == nil && $0.dropped == nil })
        let notes = report.accelerators[0].notes.joined(separator: "\n")
        #expect(notes.contains("does not report unavailable-features"))
        #expect(notes.contains("no query-cpu-model-expansion"))
        #expect(try await ProberTestSupport.schemaErrors(report.json) == nil)
        #expect(TextReport.render(report).contains("2 unknown"))
    }
}
