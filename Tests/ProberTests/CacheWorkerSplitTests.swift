import Foundation
import Prober
import QMP
import Synchronization
import Testing

/// Counts the commands of one name a client sends (expansions by default).
final class ExpansionCounter: QMPTrafficObserver {
    private let value = Mutex(0)
    private let needle: String
    init(command: String = "query-cpu-model-expansion") { needle = "\"\(command)\"" }
    var count: Int { value.withLock { $0 } }
    func sent(_ bytes: [UInt8]) {
        if String(decoding: bytes, as: UTF8.self).contains(needle) { value.withLock { $0 += 1 } }
    }
    func received(_ text: [UInt8]) {}
}

/// Compares two gathered probes member by member (`AcceleratorProbe` is not `Equatable`).
enum ProbeComparison {
    static func expectSame(_ a: AcceleratorProbe, _ b: AcceleratorProbe, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.accelerator == b.accelerator, sourceLocation: sourceLocation)
        #expect(a.version == b.version && a.arch == b.arch, sourceLocation: sourceLocation)
        #expect(a.kvm == b.kvm, sourceLocation: sourceLocation)
        #expect(a.support == b.support, sourceLocation: sourceLocation)
        #expect(a.definitions == b.definitions, sourceLocation: sourceLocation)
        #expect(a.notes == b.notes, sourceLocation: sourceLocation)
        #expect(a.hostModel?.name == b.hostModel?.name && a.hostModel?.method == b.hostModel?.method, sourceLocation: sourceLocation)
        #expect(a.hostModel?.expansion == b.hostModel?.expansion, sourceLocation: sourceLocation)
        #expect(a.hostModel?.nonMigratable == b.hostModel?.nonMigratable, sourceLocation: sourceLocation)
        #expect(a.hostModel?.full == b.hostModel?.full, sourceLocation: sourceLocation)
        #expect(Set(a.expansions.keys) == Set(b.expansions.keys), sourceLocation: sourceLocation)
        for (name, expansions) in a.expansions {
            #expect(expansions.staticExpansion == b.expansions[name]?.staticExpansion, "\(name)", sourceLocation: sourceLocation)
            #expect(expansions.fullExpansion == b.expansions[name]?.fullExpansion, "\(name)", sourceLocation: sourceLocation)
        }
    }
}

/// Per-model expansions shared between sessions (`ProbeGatherer.helpers`, `--workers`), over recorded sessions.
struct WorkerSplitTests {
    let session: ReplaySession

    init() throws {
        session = try #require(try RecordingLoader.load(path: ProberTestSupport.recorded("qemu-7.2-x86_64-kvm.jsonl")).first)
    }

    func client(_ observer: ExpansionCounter? = nil, session: ReplaySession? = nil) async throws -> QMPClient {
        var configuration = QMPClient.Configuration()
        configuration.recorder = observer
        // A generous no-hang bound: a replay answers at once, but a whole-suite run can starve this process for seconds.
        configuration.connectTimeout = .seconds(120)
        let client = QMPClient(configuration: configuration)
        try await client.connect(using: ReplayTransport(session: session ?? self.session, mode: .matching))
        return client
    }

    @Test("sessions of two accelerators sharing one introspection: query-commands is asked once, each probe is unchanged")
    func sharedIntrospection() async throws {
        let tcgSession = try #require(try RecordingLoader.load(path: ProberTestSupport.recorded("qemu-7.2-x86_64-tcg.jsonl")).first)
        let kvmAlone = try await ProbeGatherer(client: client(), accelerator: "kvm").gather()
        let tcgAlone = try await ProbeGatherer(client: client(session: tcgSession), accelerator: "tcg").gather()

        let schemas = [ExpansionCounter(command: "query-commands"), ExpansionCounter(command: "query-commands")]
        let shared = SharedIntrospection()
        var kvm = ProbeGatherer(client: try await client(schemas[0]), accelerator: "kvm")
        var tcg = ProbeGatherer(client: try await client(schemas[1], session: tcgSession), accelerator: "tcg")
        kvm.introspection = shared
        tcg.introspection = shared
        async let kvmProbe = kvm.gather()
        async let tcgProbe = tcg.gather()
        let (kvmShared, tcgShared) = try await (kvmProbe, tcgProbe)
        ProbeComparison.expectSame(kvmShared, kvmAlone)
        ProbeComparison.expectSame(tcgShared, tcgAlone)
        #expect(schemas[0].count + schemas[1].count == 1)
    }

    @Test("a recording without query-commands (made before the probe preferred it) is probed from its query-qmp-schema")
    func schemaFallback() async throws {
        let current = try await ProbeGatherer(client: client(), accelerator: "kvm").gather()
        #expect(current.support.source == "query-commands")
        var older = session
        let position = try #require(older.exchanges.firstIndex { $0.name == "query-commands" })
        let commands = try #require(older.exchanges[position].reply?["return"]?.arrayValue)
        // The schema as QEMU gives it: one entity per command (and others), `meta-type` saying which.
        let schema: [JSON] = commands.map { ["name": $0["name"] ?? .null, "meta-type": "command", "arg-type": "0", "ret-type": "0"] }
            + [["name": "SHUTDOWN", "meta-type": "event", "arg-type": "0"]]
        older.exchanges[position] = .init(command: ["execute": "query-qmp-schema", "id": 99], line: 0,
                                          reply: ["return": .array(schema), "id": 99])
        let fromSchema = try await ProbeGatherer(client: client(session: older), accelerator: "kvm").gather()
        #expect(fromSchema.support.source == "query-qmp-schema")
        #expect(fromSchema.support.commands == current.support.commands)
        #expect(fromSchema.definitions == current.definitions && fromSchema.expansions.count == current.expansions.count)
        #expect(fromSchema.notes == current.notes)
    }

    @Test("without query-cpu-model-expansion, the spread conversation drops what it asked ahead, as one session never asks")
    func noExpansionCommand() async throws {
        var old = session
        old.exchanges = old.exchanges.compactMap { exchange in
            guard exchange.name != "query-cpu-model-expansion" else { return nil }
            var exchange = exchange
            if exchange.name == "query-commands", case .object(var reply)? = exchange.reply,
               let commands = reply["return"]?.arrayValue {
                reply["return"] = .array(commands.filter { $0["name"]?.stringValue != "query-cpu-model-expansion" })
                exchange.reply = .object(reply)
            }
            return exchange
        }
        let alone = try await ProbeGatherer(client: client(session: old), accelerator: "kvm").gather()
        #expect(alone.hostModel == nil && alone.expansions.isEmpty)
        #expect(alone.notes.last?.contains("no query-cpu-model-expansion") == true)
        var gatherer = ProbeGatherer(client: try await client(session: old), accelerator: "kvm")
        let helper = try await client(session: old)
        gatherer.helpers = [{ helper }]
        ProbeComparison.expectSame(try await gatherer.gather(), alone)
    }

    @Test("expansions shared with helper sessions give the same probe as one session, each expansion asked once")
    func sameProbe() async throws {
        let alone = ExpansionCounter()
        let single = try await ProbeGatherer(client: client(alone), accelerator: "kvm").gather()
        #expect(single.expansions.count > 100)

        let primary = ExpansionCounter()
        let helperCounters = [ExpansionCounter(), ExpansionCounter()]
        var gatherer = ProbeGatherer(client: try await client(primary), accelerator: "kvm")
        var helpers: [@Sendable () async -> QMPClient?] = []
        for counter in helperCounters {
            let helper = try await client(counter)
            helpers.append { helper }
        }
        helpers.append { nil }  // a QEMU that failed to start
        gatherer.helpers = helpers
        let shared = try await gatherer.gather()
        ProbeComparison.expectSame(shared, single)
        #expect(ProbeReport.compute(probes: [shared], source: "s").json == ProbeReport.compute(probes: [single], source: "s").json)
        #expect(primary.count + helperCounters.map(\.count).reduce(0, +) == alone.count)
    }

    @Test("a helper whose connection is gone gives its expansions back: the probe is complete")
    func failingHelper() async throws {
        let single = try await ProbeGatherer(client: client(), accelerator: "kvm").gather()
        var gatherer = ProbeGatherer(client: try await client(), accelerator: "kvm")
        let broken = try await client()
        await broken.close()
        gatherer.helpers = [{ broken }]
        let shared = try await gatherer.gather()
        ProbeComparison.expectSame(shared, single)
    }

    @Test("progress counts every expansion once with helpers")
    func progress() async throws {
        let seen = Mutex<[Int]>([])
        let totals = Mutex<Set<Int>>([])
        var gatherer = ProbeGatherer(client: try await client(), accelerator: "kvm")
        let helper = try await client()
        gatherer.helpers = [{ helper }]
        gatherer.progress = { done, total in
            seen.withLock { $0.append(done) }
            totals.withLock { _ = $0.insert(total) }
        }
        let probe = try await gatherer.gather()
        let total = try #require(totals.withLock { $0 }.first)
        #expect(totals.withLock { $0 }.count == 1)
        // The first expansion (asked alone, before the others) is not counted by the progress callback.
        #expect(seen.withLock { $0 }.sorted() == Array(1...(total - 1)))
        #expect(probe.expansions.count > 100)
    }

    @Test("a report computed in slices side by side is the report computed at once (KVM against TCG, and alone)")
    func slicedReport() async throws {
        var probes: [AcceleratorProbe] = []
        for name in ["qemu-7.2-x86_64-kvm.jsonl", "qemu-7.2-x86_64-tcg.jsonl"] {
            probes += try await ProbeRunner(source: .replay(path: ProberTestSupport.recorded(name), mode: .matching)).gather().probes
        }
        for set in [probes, [probes[0]], [probes[1]]] {
            let whole = ProbeReport.compute(probes: set, source: "s", binary: "b")
            for parts in [1, 2, 3, 4] {
                let sliced = await ProbeRunner.computeReport(probes: set, source: "s", binary: "b", parts: parts)
                #expect(sliced.json == whole.json, "\(set.map(\.accelerator)) in \(parts) slices")
            }
        }
        // An external reference too.
        let against = ["kvm": (label: "other", probe: probes[1])]
        let whole = ProbeReport.compute(probes: [probes[0]], source: "s", against: against)
        #expect(await ProbeRunner.computeReport(probes: [probes[0]], source: "s", against: against, parts: 3).json == whole.json)
    }

    @Test("the automatic number of workers: one QEMU per core in all, at least one, at most four")
    func automaticWorkers() {
        #expect(ProbeRunner.automaticWorkers(accelerators: 1, cores: 2) == 2)
        #expect(ProbeRunner.automaticWorkers(accelerators: 2, cores: 2) == 1)
        #expect(ProbeRunner.automaticWorkers(accelerators: 2, cores: 1) == 1)
        #expect(ProbeRunner.automaticWorkers(accelerators: 1, cores: 64) == 4)
    }
}
