import Foundation
@testable import Prober
import QMP
import Synchronization
import Testing

/// Records every command a client sends (name and arguments), to check what the probe asks.
final class CommandLog: QMPTrafficObserver {
    private let sent = Mutex<[JSON]>([])
    /// The commands sent, in order.
    var commands: [JSON] { sent.withLock { $0 } }
    func sent(_ bytes: [UInt8]) {
        if let message = try? JSON.parse(bytes) { sent.withLock { $0.append(message) } }
    }
    func received(_ text: [UInt8]) {}

    /// The expansions asked: (type, model name, whether props were given).
    var expansions: [(type: String, name: String, props: Bool)] {
        commands.compactMap { command in
            guard command["execute"]?.stringValue == "query-cpu-model-expansion",
                  let type = command["arguments"]?["type"]?.stringValue,
                  let name = command["arguments"]?["model"]?["name"]?.stringValue else { return nil }
            return (type, name, command["arguments"]?["model"]?["props"] != nil)
        }
    }
}

/// What the probe asks QEMU (issue #17, "say the same with less"): one expansion per model, of the type whose
/// properties are its features, the fallback only where that fails; no full expansion of the x86 host model before
/// QEMU 10.1; a quiet reference asks neither the host model nor the accelerator state. That the reports stay the same
/// is ReportDigestTests' part.
struct ProbeConversationTests {
    static func client(_ log: CommandLog, session: ReplaySession) async throws -> QMPClient {
        var configuration = QMPClient.Configuration()
        configuration.recorder = log
        configuration.connectTimeout = .seconds(120)  // a generous no-hang bound: a starved test process, not QEMU
        let client = QMPClient(configuration: configuration)
        try await client.connect(using: ReplayTransport(session: session, mode: .matching))
        return client
    }

    static func session(_ name: String) throws -> ReplaySession {
        try #require(try RecordingLoader.load(path: ProberTestSupport.recorded(name)).first)
    }

    @Test("one expansion per model, of the type the report reads (static on x86, full on s390x and aarch64)",
          arguments: [("qemu-7.2-x86_64-kvm.jsonl", "static"), ("qemu-10.0-x86_64-tcg.jsonl", "static"),
                      ("qemu-7.2-s390x-tcg.jsonl", "full"), ("qemu-7.2-aarch64-tcg.jsonl", "full")])
    func onePerModel(_ recording: String, _ type: String) async throws {
        let log = CommandLog()
        let session = try Self.session(recording)
        let accelerator = session.header.accelerator ?? "tcg"
        let probe = try await ProbeGatherer(client: Self.client(log, session: session), accelerator: accelerator).gather()
        let definitions = try #require(probe.definitions)
        let models = Set(definitions.filter { $0.aliasOf == nil }.map(\.name))
        let host = probe.hostModel?.name
        // Per-model expansions: every non-alias model once, of one type; the host model's name (`host`, `max`) is
        // also a model, whose expansion without properties serves both.
        var asked: [String: Int] = [:]
        for expansion in log.expansions where !expansion.props && expansion.type == type { asked[expansion.name, default: 0] += 1 }
        #expect(Set(asked.keys).isSuperset(of: models))
        #expect(asked.filter { $0.value != 1 }.isEmpty, "asked more than once: \(asked.filter { $0.value != 1 })")
        let otherType = log.expansions.filter { !$0.props && $0.type != type && $0.name != host }
        #expect(otherType.isEmpty, "\(otherType.count) per-model expansions of another type: \(otherType.prefix(3))")
        #expect(probe.expansions.count == definitions.count, "every model, aliases through their target, has its expansion")
    }

    @Test("the x86 host model: two static expansions before QEMU 10.1 (no full one), as libvirt asks")
    func x86HostModel() async throws {
        let log = CommandLog()
        let session = try Self.session("qemu-7.2-x86_64-kvm.jsonl")
        let probe = try await ProbeGatherer(client: Self.client(log, session: session), accelerator: "kvm").gather()
        let host = log.expansions.filter { $0.name == "host" }
        #expect(host.map(\.type) == ["static", "static"] && host.map(\.props).sorted { !$0 && $1 } == [false, true])
        #expect(probe.hostModel?.full == nil && probe.hostModel?.nonMigratable != nil)
        // `host` is also a model: its per-model expansion is the host model's (the same command), not asked twice.
        #expect(probe.expansions["host"]?.staticExpansion == probe.hostModel?.expansion)
    }

    @Test("a model whose static expansion fails on x86 is expanded full, and the report reads that one")
    func fallback() async throws {
        var session = try Self.session("qemu-7.2-x86_64-kvm.jsonl")
        let model = "Skylake-Client-v1"
        let position = try #require(session.exchanges.firstIndex { exchange in
            exchange.name == "query-cpu-model-expansion" && exchange.command["arguments"]?["type"]?.stringValue == "static"
                && exchange.command["arguments"]?["model"]?["name"]?.stringValue == model
        })
        let id = session.exchanges[position].reply?["id"] ?? .null
        session.exchanges[position].reply = ["error": ["class": "GenericError", "desc": "refused for the test"], "id": id]
        let log = CommandLog()
        let probe = try await ProbeGatherer(client: Self.client(log, session: session), accelerator: "kvm").gather()
        #expect(log.expansions.filter { $0.name == model }.map(\.type) == ["static", "full"])
        let expansions = try #require(probe.expansions[model])
        #expect(expansions.staticExpansion == nil && expansions.fullExpansion != nil)
        #expect(probe.notes.contains { $0.contains("\(model) (static): ") && $0.contains("refused for the test") })
        let report = ProbeReport.compute(probes: [probe], source: "test")
        let enabled = try #require(try ProberTestSupport.model(report, "kvm", model).enabled)
        #expect(enabled.contains("avx2") && enabled.contains("x2apic"), "the full expansion's features, canonical")
    }

    @Test("a quiet reference asks the target, the definitions and each model's expansion, nothing else")
    func referenceOnly() async throws {
        let log = CommandLog()
        let session = try Self.session("qemu-7.2-x86_64-tcg.jsonl")
        var gatherer = ProbeGatherer(client: try await Self.client(log, session: session), accelerator: "tcg")
        gatherer.referenceOnly = true
        let reference = try await gatherer.gather()
        let names = Set(log.commands.compactMap { $0["execute"]?.stringValue })
        #expect(names == ["qmp_capabilities", "query-target", "query-commands", "query-cpu-definitions", "query-cpu-model-expansion"])
        #expect(reference.hostModel == nil && reference.acceleratorState == nil)
        #expect(log.expansions.allSatisfy { $0.type == "static" && !$0.props })

        // KVM's added/removed against it are those against the whole TCG probe.
        let full = try await ProbeGatherer(client: Self.client(CommandLog(), session: session), accelerator: "tcg").gather()
        let kvm = try await ProbeGatherer(client: Self.client(CommandLog(), session: Self.session("qemu-7.2-x86_64-kvm.jsonl")),
                                          accelerator: "kvm").gather()
        let quiet = ProbeReport.compute(probes: [kvm], source: "s", against: ["kvm": (label: "tcg", probe: reference)])
        let whole = ProbeReport.compute(probes: [kvm], source: "s", against: ["kvm": (label: "tcg", probe: full)])
        #expect(quiet.json == whole.json)
        #expect(try ProberTestSupport.model(quiet, "kvm", "qemu64").added?.contains("x2apic") == true)

        // Given the definitions of the session it serves (ProbeRunner hands KVM's over), it does not ask for them.
        let shared = SharedDefinitions()
        let handedLog = CommandLog()
        var handed = ProbeGatherer(client: try await Self.client(handedLog, session: session), accelerator: "tcg")
        handed.referenceOnly = true
        handed.sharedDefinitions = shared
        async let handedProbe = handed.gather()
        shared.publish(kvm.definitions)
        let fromKVM = try await handedProbe
        #expect(!handedLog.commands.contains { $0["execute"]?.stringValue == "query-cpu-definitions" })
        let withHanded = ProbeReport.compute(probes: [kvm], source: "s", against: ["kvm": (label: "tcg", probe: fromKVM)])
        #expect(withHanded.json == whole.json)
    }

    @Test("a quiet reference whose session ends without definitions asks for them itself")
    func referenceWithoutHandedDefinitions() async throws {
        let shared = SharedDefinitions()
        shared.publish(nil)
        let log = CommandLog()
        var gatherer = ProbeGatherer(client: try await Self.client(log, session: Self.session("qemu-7.2-x86_64-tcg.jsonl")),
                                     accelerator: "tcg")
        gatherer.referenceOnly = true
        gatherer.sharedDefinitions = shared
        let reference = try await gatherer.gather()
        #expect(log.commands.contains { $0["execute"]?.stringValue == "query-cpu-definitions" })
        #expect(reference.definitions?.isEmpty == false && reference.expansions.count == reference.definitions?.count)
    }
}
