import Foundation
import Logging
import QMP
import Synchronization

/// Where a probe gets its answers.
public enum ProbeSource: Sendable {
    /// Start the local QEMU (the binary, or `qemu-system-<host arch>` on PATH) once per accelerator.
    case launch(binary: String?, accelerators: [String])
    /// Talk to a running monitor.
    case monitor(QMPEndpoint)
    /// Replay a recording (ours or libvirt's `.replies`): every session in it.
    case replay(path: String, mode: ReplayTransport.Mode)
}

/// Runs a probe from any ``ProbeSource``: starts QEMUs side by side (one per accelerator), records when asked,
/// gathers, and computes the ``ProbeReport``. Every QEMU it starts is gone when it returns or throws.
public struct ProbeRunner: Sendable {
    /// Where the answers come from.
    public var source: ProbeSource
    /// Record each session to this path (with `-ACCEL` before the extension when there are several).
    public var recordPath: String?
    /// Per-command timeout.
    public var timeout: Duration = .seconds(60)
    /// Expand every model (needed for enabled/added); the host model is always expanded.
    public var expandModels = true
    /// Models whose expansions to gather (nil: all).
    public var onlyModels: Set<String>?
    /// QEMU processes per accelerator when launching (nil: one process per core in all, at most 4, at least 1). With
    /// more than one, the first runs the whole conversation and the others start side by side and take a share of the
    /// per-model expansions; the result is the same. A recorded probe uses one.
    public var workers: Int?
    /// Progress callback (accelerator, done, total).
    public var progress: (@Sendable (String, Int, Int) -> Void)?
    /// Where to log.
    public var logger = Logger(label: "qmp-probe")

    /// A runner for `source`.
    public init(source: ProbeSource) { self.source = source }

    /// The accelerators to probe by default on this machine: KVM when `/dev/kvm` is usable, and TCG.
    public static var defaultAccelerators: [String] { QEMUBinary.kvmUsable ? ["kvm", "tcg"] : ["tcg"] }

    /// The QEMU processes per accelerator chosen when ``workers`` is nil: as many as the cores allow with one
    /// process per core in all (at least 1, at most 4), e.g. 2 for one accelerator on 2 cores, 1 each for two.
    package static func automaticWorkers(accelerators: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        min(4, max(1, cores / max(1, accelerators)))
    }

    /// Gathers every session and returns the raw probes (in accelerator order) and a label for the source.
    public func gather() async throws -> (probes: [AcceleratorProbe], source: String, binary: String?) {
        switch source {
        case .launch(let explicit, let accelerators):
            let stops = StopList()
            do {
                let (probes, _, binary) = try await launch(explicit: explicit, accelerators: accelerators, stops: stops)
                await stops.wait()
                return (probes, "live", binary)
            } catch {
                await stops.wait()
                throw error
            }
        case .monitor(let endpoint):
            var session = QEMUSession(.monitor(endpoint))
            session.timeout = timeout
            session.logger = logger
            session.recordPath = recordPath
            let probe = try await session.run { client in
                // The accelerator it runs, as QEMU says (query-accelerators from 10.2, else query-kvm).
                var state: AcceleratorState?
                let preferred = client.greeting.map { AcceleratorState.command(for: $0.version) } ?? "query-kvm"
                for command in (preferred == "query-kvm" ? [preferred] : [preferred, "query-kvm"]) where state == nil {
                    if let reply = try? await client.execute(command) { state = AcceleratorState(command: command, reply: reply) }
                }
                let accelerator = state?.accelerator ?? "tcg"
                (client.configuration.recorder as? SessionRecorder)?.updateHeader { $0.accelerator = accelerator }
                return try await gather(client: client, accelerator: accelerator)
            }
            return ([probe], "monitor \(endpoint)", nil)
        case .replay(let path, let mode):
            let sessions = try QEMUSession.recordedSessions(path)
            var probes: [AcceleratorProbe] = []
            for recorded in sessions {
                var session = QEMUSession(.replay(recorded, mode: mode))
                session.timeout = timeout
                session.logger = logger
                let accelerator = recorded.header.accelerator ?? "unknown"
                probes.append(try await session.run { client in
                    try await gather(client: client, accelerator: accelerator, archHint: recorded.header.arch)
                })
            }
            return (probes, "replay \(path)", sessions.first?.header.binary)
        }
    }

    /// Gathers and computes the report; `against` gives external references per accelerator.
    ///
    /// When it launches QEMU, each accelerator's part of the report is computed as soon as its probe (and its
    /// reference's) is in, while the other QEMUs still answer, and the QEMUs are stopped while it is computed; the
    /// report is the one ``ProbeReport/compute(probes:source:binary:against:)`` gives.
    public func run(against: [String: (label: String, probe: AcceleratorProbe)] = [:]) async throws -> ProbeReport {
        try await run(against: against) { $0 }
    }

    /// ``run(against:)``, with `finish` applied to the report (rendering it, say) while the QEMUs it started are
    /// being stopped; returns what `finish` returns, once they are gone.
    public func run<T: Sendable>(against: [String: (label: String, probe: AcceleratorProbe)] = [:],
                                 finish: @Sendable (ProbeReport) throws -> T) async throws -> T {
        guard case .launch(let explicit, let accelerators) = source, Set(accelerators).count == accelerators.count else {
            let (probes, source, binary) = try await gather()
            return try finish(await Self.computeReport(probes: probes, source: source, binary: binary, against: against))
        }
        let stops = StopList()
        do {
            let (probes, sections, binary) = try await launch(explicit: explicit, accelerators: accelerators, stops: stops,
                                                              against: against)
            let first = probes.first
            let report = ProbeReport(version: first?.version ?? QEMUVersion(major: 0, minor: 0, micro: 0), arch: first?.arch,
                                     binary: binary, source: "live", accelerators: sections)
            let result = try finish(report)  // if it throws, the catch below still waits for the stops
            ProbeTimeline.mark("output")
            await stops.wait()
            ProbeTimeline.mark("qemu-stopped")
            // The raw replies (about 60,000 JSON values) are freed on another thread: the caller does not wait for it.
            Self.releaseInBackground(probes)
            return result
        } catch {
            await stops.wait()
            throw error
        }
    }

    /// Drops `value` on a background thread, so that freeing a large structure is not on the caller's path (a process
    /// that exits meanwhile never spends the time).
    static func releaseInBackground<T: Sendable>(_ value: T) {
        DispatchQueue.global(qos: .utility).async { withExtendedLifetime(value) {} }
    }

    /// The report of `probes`, exactly as ``ProbeReport/compute(probes:source:binary:against:)`` computes it, with
    /// every accelerator's models computed in `parts` slices side by side (see `computeSection(_:reference:parts:)`).
    package static func computeReport(probes: [AcceleratorProbe], source: String, binary: String? = nil,
                                     against: [String: (label: String, probe: AcceleratorProbe)] = [:],
                                     parts: Int = defaultParts) async -> ProbeReport {
        let references = ProbeReference.references(probes, against: against)
        var sections: [ProbeReport.Accelerator] = []
        for probe in probes {
            sections.append(await computeSection(probe, reference: references[probe.accelerator], parts: parts))
        }
        return ProbeReport(version: probes.first?.version ?? QEMUVersion(major: 0, minor: 0, micro: 0), arch: probes.first?.arch,
                           binary: binary, source: source, accelerators: sections)
    }

    /// Slices per accelerator when computing a report: one per core (at most 4).
    package static var defaultParts: Int { min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)) }

    /// One accelerator's part of the report, its models computed in `parts` slices side by side and put back in
    /// order. Each model's entry depends only on its own definition and expansions, the reference, and the feature
    /// names of the whole probe (which every slice keeps: all expansions and the host model), so the result is the
    /// one computed at once; only the feature-name tables are built once per slice.
    static func computeSection(_ probe: AcceleratorProbe, reference: (label: String, probe: AcceleratorProbe)?,
                               parts: Int = defaultParts) async -> ProbeReport.Accelerator {
        let definitions = probe.definitions ?? []
        guard parts > 1, definitions.count >= 8 * parts else { return ProbeReport.computeAccelerator(probe, reference: reference) }
        let size = (definitions.count + parts - 1) / parts
        let computed = await withTaskGroup(of: (Int, ProbeReport.Accelerator).self) { group in
            for (index, start) in stride(from: 0, to: definitions.count, by: size).enumerated() {
                var slice = probe
                slice.definitions = Array(definitions[start..<min(start + size, definitions.count)])
                group.addTask { (index, ProbeReport.computeAccelerator(slice, reference: reference)) }
            }
            var parts: [(Int, ProbeReport.Accelerator)] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var section = computed[0]
        section.models = computed.flatMap(\.models)
        return section
    }

    /// Probes every accelerator side by side; with `against` (the report is wanted), also computes each one's part of
    /// the report as soon as its inputs are in. The QEMUs of successful probes are stopped through `stops`.
    ///
    /// When the report is wanted and a hardware accelerator is probed without its reference accelerator (`--accel
    /// kvm`) and without an external reference, the reference (TCG) is probed too, side by side, only to compute
    /// `added`/`removed` (``ProbeReference/probedForReferenceLabel``): it is neither reported nor recorded.
    private func launch(explicit: String?, accelerators requested: [String], stops: StopList,
                        against: [String: (label: String, probe: AcceleratorProbe)]? = nil)
        async throws -> (probes: [AcceleratorProbe], sections: [ProbeReport.Accelerator], binary: String) {
        let binary = try QEMUBinary.locate(explicit: explicit)
        let quiet = against.map { against in
            requested.compactMap { accelerator -> String? in
                guard against[accelerator] == nil, let reference = ProbeReference.accelerator(for: accelerator),
                      !requested.contains(reference) else { return nil }
                return reference
            }
        } ?? []
        let accelerators = requested + Array(Set(quiet)).sorted()
        // The quiet reference takes the models from the session it serves, rather than asking for them.
        let definitions = quiet.isEmpty ? nil : SharedDefinitions()
        let perAccelerator = recordPath != nil ? 1 : max(1, workers ?? Self.automaticWorkers(accelerators: accelerators.count))
        // One introspection for every accelerator (a recording keeps its own, to be complete).
        let introspection = recordPath == nil && accelerators.count > 1 ? SharedIntrospection() : nil
        // As ProbeReport.compute: an external reference, else the reference accelerator of the same QEMU.
        func referenceIndex(_ index: Int) -> Int? {
            guard against?[accelerators[index]] == nil,
                  let reference = ProbeReference.accelerator(for: accelerators[index]) else { return nil }
            return accelerators.firstIndex(of: reference)
        }
        enum Piece: Sendable {
            case probe(Int, AcceleratorProbe)
            case section(Int, ProbeReport.Accelerator)
        }
        var probes: [Int: AcceleratorProbe] = [:]
        var sections: [Int: ProbeReport.Accelerator] = [:]
        try await withThrowingTaskGroup(of: Piece.self) { group in
            for (index, accelerator) in accelerators.enumerated() {
                group.addTask {
                    // A session that fails before its definitions (QEMU did not start) leaves no reference waiting.
                    defer { if index < requested.count { definitions?.publish(nil) } }
                    return .probe(index, try await probeLaunched(binary: binary, accelerator: accelerator,
                                                          record: index < requested.count
                                                              ? recordPath(for: accelerator, of: requested) : nil,
                                                          workers: perAccelerator, introspection: introspection,
                                                          referenceOnly: index >= requested.count,
                                                          definitions: definitions, stops: stops))
                }
            }
            var computing: Set<Int> = []
            for try await piece in group {
                switch piece {
                case .probe(let index, let probe):
                    probes[index] = probe
                    guard let against else { continue }
                    for candidate in requested.indices where !computing.contains(candidate) {
                        guard let own = probes[candidate] else { continue }
                        let referenceProbe = referenceIndex(candidate).map { probes[$0] }
                        if case .some(.none) = referenceProbe { continue }  // its reference is not in yet
                        computing.insert(candidate)
                        let label = referenceIndex(candidate).map {
                            $0 < requested.count ? ProbeReference.sameQEMULabel : ProbeReference.probedForReferenceLabel
                        }
                        let reference = against[accelerators[candidate]]
                            ?? referenceProbe.flatMap { $0 }.map { (label: label ?? ProbeReference.sameQEMULabel, probe: $0) }
                        group.addTask { .section(candidate, await Self.computeSection(own, reference: reference)) }
                    }
                case .section(let index, let section):
                    sections[index] = section
                }
            }
        }
        if against != nil { ProbeTimeline.mark("report") }
        return (requested.indices.compactMap { probes[$0] }, requested.indices.compactMap { sections[$0] }, binary)
    }

    private func gather(client: QMPClient, accelerator: String, archHint: String? = nil,
                        helpers: [@Sendable () async -> QMPClient?] = [],
                        introspection: SharedIntrospection? = nil, referenceOnly: Bool = false,
                        definitions: SharedDefinitions? = nil) async throws -> AcceleratorProbe {
        var gatherer = ProbeGatherer(client: client, accelerator: accelerator)
        gatherer.referenceOnly = referenceOnly
        gatherer.sharedDefinitions = definitions
        gatherer.helpers = helpers
        gatherer.introspection = introspection
        gatherer.archHint = archHint
        gatherer.expandModels = expandModels
        gatherer.onlyModels = onlyModels
        if let progress { gatherer.progress = { done, total in progress(accelerator, done, total) } }
        return try await gatherer.gather()
    }

    private func probeLaunched(binary: String, accelerator: String, record: String?, workers: Int,
                               introspection: SharedIntrospection?, referenceOnly: Bool = false,
                               definitions: SharedDefinitions? = nil, stops: StopList) async throws -> AcceleratorProbe {
        let target = QEMUInstance.target(ofBinary: binary)
        let arguments = QEMUInstance.probeArguments(accelerator: accelerator, target: target)
        // The helpers start first, side by side with the main QEMU; one that fails to start is left out.
        let helperConfiguration = configuration(recorder: nil)
        let helpers = (1..<max(1, workers)).map { _ in
            Task { try? await QEMUInstance.start(binary: binary, accelerator: accelerator, arguments: arguments,
                                                 configuration: helperConfiguration) }
        }
        func stopHelpers() async {
            await withTaskGroup(of: Void.self) { group in
                for helper in helpers { group.addTask { await helper.value?.shutdown() } }
            }
        }
        let recorder: SessionRecorder?
        let instance: QEMUInstance
        do {
            recorder = try record.map {
                try SessionRecorder(path: $0, header: SessionHeader.forThisHost(arch: target.arch, accelerator: accelerator,
                                                                      binary: binary, arguments: arguments))
            }
            instance = try await QEMUInstance.start(binary: binary, accelerator: accelerator, arguments: arguments,
                                                    configuration: configuration(recorder: recorder))
            ProbeTimeline.mark("greeting[\(accelerator)]")
        } catch {
            await stopHelpers()
            throw error
        }
        do {
            let probe = try await gather(client: instance.client, accelerator: accelerator,
                                         helpers: helpers.map { helper in { await helper.value?.client } },
                                         introspection: introspection, referenceOnly: referenceOnly, definitions: definitions)
            ProbeTimeline.mark("replies-in[\(accelerator)]")
            // Done: the QEMUs are stopped while the caller goes on (it waits for `stops` before it returns).
            stops.add(Task {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await Self.stopNow(instance) }
                    for helper in helpers { group.addTask { if let helper = await helper.value { await Self.stopNow(helper) } } }
                }
            })
            try recorder?.finish()
            return probe
        } catch {
            // Whether QEMU died by itself, asked before shutdown() ends it (its monitor closes just before it exits).
            var died: Int32?
            if case ProberError.qmp(let qmp) = error {
                switch qmp {
                case .interrupted, .protocolError: died = await instance.process.waitForExit(timeout: .milliseconds(500))
                case .timedOut:
                    died = instance.process.exitStatus()
                    await instance.client.close()  // a QEMU that does not answer will not answer `quit`: no 2 s wait for it
                default: died = instance.process.exitStatus()
                }
            }
            async let helpersStopped: Void = stopHelpers()
            await instance.shutdown()
            await helpersStopped
            try? recorder?.finish()
            if case ProberError.qmp(let qmp) = error, let died {
                let how = died > 128 ? "killed by signal \(died - 128)" : "exit status \(died)"
                throw ProberError.qemuFailedToStart(binary: binary, detail: "died during the probe (\(how)): \(qmp)",
                                                    stderr: instance.process.stderr)
            }
            throw error
        }
    }

    /// Ends a probing QEMU at once: it has no guest and no disk, so it needs no orderly `quit`. SIGKILL, the client
    /// closes, and the process is reaped on a dispatch thread (`waitpid` blocks), its private directory removed.
    static func stopNow(_ instance: QEMUInstance) async {
        kill(instance.process.pid, SIGKILL)
        await instance.client.close()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                instance.process.kill()
                done.resume()
            }
        }
        instance.process.directory.remove()
    }

    private func configuration(recorder: SessionRecorder?) -> QMPClient.Configuration {
        QEMUSession.clientConfiguration(timeout: timeout, logger: logger, recorder: recorder)
    }

    /// The recording path for `accelerator`: the path itself for one accelerator, else `NAME-ACCEL.EXT`.
    func recordPath(for accelerator: String, of accelerators: [String]) -> String? {
        guard let recordPath else { return nil }
        guard accelerators.count > 1 else { return recordPath }
        let url = URL(fileURLWithPath: recordPath)
        let ext = url.pathExtension
        let base = url.deletingPathExtension().path
        return ext.isEmpty ? "\(base)-\(accelerator)" : "\(base)-\(accelerator).\(ext)"
    }
}

/// The stops of the QEMUs a runner started, so that it returns only once every one of them is gone.
final class StopList: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])

    /// Adds a stop in progress.
    func add(_ task: Task<Void, Never>) { tasks.withLock { $0.append(task) } }

    /// Waits for every stop added so far (and those added meanwhile).
    func wait() async {
        while let task = tasks.withLock({ $0.popLast() }) { await task.value }
    }
}
