import Foundation
import FaultInjection
import Prober
import QMP
import Testing

/// The QMP client against the real QEMU of this machine (KVM when usable, and TCG).
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveClientTests {
    @Test("negotiate and query-version", arguments: LiveQEMU.accelerators)
    func negotiateAndQueryVersion(accelerator: String) async throws {
        try await LiveQEMU.withInstance(accelerator: accelerator) { qemu in
            let greeting = try #require(qemu.client.greeting)
            #expect(greeting.capabilities.contains("oob"))
            #expect(qemu.client.runState == .running)
            let version = try await qemu.client.execute("query-version")
            #expect(version["qemu"]?["major"]?.int64Value == Int64(greeting.version.major))
            #expect(version["qemu"]?["minor"]?.int64Value == Int64(greeting.version.minor))
            #expect(version["package"]?.stringValue == greeting.version.package)
        }
    }

    @Test("query-kvm reflects the accelerator", arguments: LiveQEMU.accelerators)
    func queryKVM(accelerator: String) async throws {
        try await LiveQEMU.withInstance(accelerator: accelerator) { qemu in
            let kvm = try await qemu.client.execute("query-kvm")
            #expect(kvm["enabled"]?.boolValue == (accelerator == "kvm"))
            #expect(kvm["present"]?.boolValue == true)
        }
    }

    struct CPUDefinition: Decodable {
        var name: String
        var typename: String?
        var unavailableFeatures: [String]?
        var aliasOf: String?
        enum CodingKeys: String, CodingKey {
            case name, typename
            case unavailableFeatures = "unavailable-features"
            case aliasOf = "alias-of"
        }
    }

    @Test("query-cpu-definitions decodes into Codable models", arguments: LiveQEMU.accelerators)
    func cpuDefinitions(accelerator: String) async throws {
        try await LiveQEMU.withInstance(accelerator: accelerator) { qemu in
            let models = try await qemu.client.execute("query-cpu-definitions", returning: [CPUDefinition].self)
            let names = Set(models.map(\.name))
            #expect(models.count > 50)
            #expect(names.isSuperset(of: ["qemu64", "Haswell", "max", "base"]))
            let qemu64 = try #require(models.first { $0.name == "qemu64" })
            #expect(qemu64.typename == "qemu64-x86_64-cpu")
            #expect(qemu64.unavailableFeatures != nil)
            // `max` is always usable: it is by definition what the accelerator supports.
            #expect(models.first { $0.name == "max" }?.unavailableFeatures == [])
        }
    }

    @Test("a failing command gives CommandNotFound with QEMU's description")
    func commandNotFound() async throws {
        try await LiveQEMU.withInstance { qemu in
            let error = await #expect(throws: QMPError.self) {
                try await qemu.client.execute("no-such-command")
            }
            guard case .commandFailed(let failure) = error else {
                Issue.record("expected a command error, got \(String(describing: error))")
                return
            }
            #expect(failure.errorClass == "CommandNotFound")
            #expect(failure.command == "no-such-command")
            #expect(failure.errorDescription.contains("no-such-command"))
            // The session goes on after a command error.
            let status = try await qemu.client.execute("query-status")
            #expect(status["status"]?.stringValue == "prelaunch")
        }
    }

    @Test("GenericError for bad arguments")
    func genericError() async throws {
        try await LiveQEMU.withInstance { qemu in
            let error = await #expect(throws: QMPError.self) {
                try await qemu.client.execute("query-cpu-model-expansion",
                                              arguments: ["type": "static", "model": ["name": "no-such-cpu"]])
            }
            #expect(error?.errorClass == "GenericError")
        }
    }

    @Test("stop and cont deliver STOP and RESUME events")
    func stopContEvents() async throws {
        try await LiveQEMU.withInstance(machine: "pc") { qemu in
            let events = qemu.client.events()
            _ = try await qemu.client.execute("cont")
            _ = try await qemu.client.execute("stop")
            var seen: [QMPEvent] = []
            for await event in events {
                seen.append(event)
                if event.name == "STOP" { break }
            }
            #expect(seen.map(\.name) == ["RESUME", "STOP"])
            #expect(seen.allSatisfy { $0.timestamp.isKnown })
            let status = try await qemu.client.execute("query-status")
            #expect(status["status"]?.stringValue == "paused")
        }
    }

    @Test("pipelined commands from many tasks all get their own reply")
    func pipelined() async throws {
        try await LiveQEMU.withInstance { qemu in
            let names = ["qemu64", "Haswell", "EPYC", "max", "base", "Westmere", "core2duo", "Skylake-Client",
                         "Nehalem", "Opteron_G3", "kvm64", "qemu32"]
            let results = try await withThrowingTaskGroup(of: (String, String?).self) { group in
                for round in 0..<10 {
                    for name in names {
                        group.addTask {
                            let reply = try await qemu.client.execute(
                                "query-cpu-model-expansion", arguments: ["type": "full", "model": ["name": .string(name)]])
                            return ("\(round):\(name)", reply["model"]?["name"]?.stringValue)
                        }
                    }
                }
                var collected: [(String, String?)] = []
                for try await result in group { collected.append(result) }
                return collected
            }
            #expect(results.count == 120)
            for (key, name) in results { #expect(key.hasSuffix(":" + (name ?? "nil"))) }
        }
    }

    @Test("quit then disconnect counts as success, and the client goes idle")
    func quitAndDisconnect() async throws {
        let binary = try #require(LiveQEMU.binary)
        let instance = try await QEMUInstance.start(binary: binary, accelerator: "tcg",
                                                    arguments: QEMUInstance.probeArguments(accelerator: "tcg"))
        let events = instance.client.events()
        let reply = try await instance.client.execute("quit")
        #expect(reply == .object([:]))
        var names: [String] = []
        for await event in events { names.append(event.name) }  // ends when QEMU closes the monitor
        #expect(names.contains("SHUTDOWN"))
        let status = await instance.process.waitForExit(timeout: .seconds(5))
        #expect(status == 0)
        #expect(instance.client.runState == .idle)
        let error = await #expect(throws: QMPError.self) { try await instance.client.execute("query-version") }
        if case .invalidState = error {} else { Issue.record("expected invalidState, got \(String(describing: error))") }
        await instance.shutdown()
    }

    @Test("a QEMU killed with a command pending interrupts the call")
    func killedWhilePending() async throws {
        // QEMU is stopped first, so the command is certainly pending (sent, and never answered) when QEMU dies.
        let sent = SentCommands()
        var configuration = QMPClient.Configuration()
        configuration.recorder = sent
        try await LiveQEMU.withInstance(configuration: configuration) { qemu in
            #expect(await ProcessInspection.stop(qemu.process.pid), "QEMU did not stop")
            let client = qemu.client
            let version = Task { try await client.execute("query-version") }
            let pending = await ProcessInspection.poll(timeout: .seconds(30)) { sent.contains("query-version") ? true : nil }
            guard pending == true else {
                version.cancel()
                Issue.record("the command was never sent")
                return
            }
            qemu.process.kill()
            let error = await #expect(throws: QMPError.self) { try await version.value }
            guard case .interrupted(let command, _)? = error else {
                Issue.record("expected interrupted, got \(String(describing: error))")
                return
            }
            #expect(command == "query-version")
        }
    }

    @Test("a QEMU that exits at start reports its own stderr")
    func qemuFailsAtStart() async throws {
        let binary = try #require(LiveQEMU.binary)
        let error = await #expect(throws: ProberError.self) {
            try await QEMUInstance.start(binary: binary, accelerator: "tcg",
                                         arguments: QEMUInstance.probeArguments(accelerator: "tcg", machine: "no-such-machine"))
        }
        guard case .qemuFailedToStart(_, let detail, let stderr) = error else {
            Issue.record("expected qemuFailedToStart, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("exited with status 1"))
        #expect(stderr.contains("unsupported machine type"))
    }
}

/// The commands a client sent, seen as they cross the wire.
private final class SentCommands: QMPTrafficObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var names: [String] = []

    func sent(_ bytes: [UInt8]) {
        let name = (try? JSON.parse(Array(bytes.dropLast(2))))?["execute"]?.stringValue
        lock.withLock { names.append(name ?? "") }
    }

    func received(_ text: [UInt8]) {}

    /// Whether `name` was sent.
    func contains(_ name: String) -> Bool { lock.withLock { names.contains(name) } }
}
