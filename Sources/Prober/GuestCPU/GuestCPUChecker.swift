import Foundation
import QMP

/// Runs a guest CPU check: predicts from expansions (a probing QEMU, `-machine none`), then, with ``live``,
/// starts a paused guest per machine type and reads the CPU QEMU realized.
public struct GuestCPUChecker: Sendable {
    /// Where the expansions come from.
    public enum Source: Sendable {
        /// Start the local QEMU (this binary, or `qemu-system-<host arch>` on PATH).
        case launch(binary: String?)
        /// A running monitor (prediction only).
        case monitor(QMPEndpoint)
        /// A recording (prediction only): the session of the chosen accelerator, replayed in `mode`.
        case replay(path: String, mode: ReplayTransport.Mode = .matching)
    }

    /// Where the expansions come from.
    package var source: Source
    /// The accelerator (`kvm`, `tcg`).
    package var accelerator: String
    /// Machine types to verify on (`nil`: QEMU's default); more than one shows their differences.
    public var machines: [String?] = [nil]
    /// Start paused guests and read the realized CPU.
    public var live = false
    /// The guests' `-smp` topology (nil: QEMU's default, one vCPU).
    public var topology: SMPTopology?
    /// Per-command timeout.
    public var timeout: Duration = .seconds(60)
    /// Features requested as optional.
    package var optional: Set<String> = []
    /// libvirt's `check` mode, when the input was a domain XML.
    package var check: String?
    /// Record the prediction session (the `-machine none` QEMU of the chosen accelerator) to this path.
    package var recordPath: String?

    /// A checker for `accelerator` with expansions from `source`.
    public init(source: Source, accelerator: String) {
        self.source = source
        self.accelerator = accelerator
    }

    /// Checks `spec`.
    /// - Throws: ``ProberError/invalidInput(_:)`` for an unknown model or feature (with the nearest known names;
    ///   no guest is started), ``ProberError`` for QEMU failures.
    public func run(spec: CPUSpec) async throws -> GuestCPUResult {
        switch source {
        case .launch(let explicit):
            let binary = try QEMUBinary.locate(explicit: explicit)
            let other = accelerator == "kvm" ? "tcg" : (QEMUBinary.kvmUsable ? "kvm" : nil)
            let wantsReference = !["host", "max"].contains(spec.model)
            // The other accelerator's expansion of the model, side by side (to tell the model's own features from
            // this accelerator's defaults); a failure there only loses that distinction.
            let reference = Task { () -> (String, CPUModelExpansion)? in
                guard wantsReference, let other else { return nil }
                return try? await self.session(.launch(binary: binary, accelerator: other,
                                                       arguments: QEMUInstance.probeArguments(accelerator: other))).run { client in
                    (other, try await self.expand(client, "static", spec.model, props: nil))
                }
            }
            var primary = session(.launch(binary: binary, accelerator: accelerator,
                                          arguments: QEMUInstance.probeArguments(accelerator: accelerator)))
            primary.recordPath = recordPath
            let inputs: GuestCPUPredictor.Inputs
            do {
                inputs = try await primary.run { client in
                    try await gatherInputs(client: client, spec: spec, reference: await reference.value)
                }
            } catch {
                _ = await reference.value
                throw error
            }
            let prediction = GuestCPUPredictor.predict(inputs)
            var realized: [RealizedCPU] = []
            if live {
                realized = try await withThrowingTaskGroup(of: (Int, RealizedCPU).self) { group in
                    for (index, machine) in machines.enumerated() {
                        group.addTask {
                            (index, try await self.realize(binary: binary, spec: spec, machine: machine))
                        }
                    }
                    var result: [(Int, RealizedCPU)] = []
                    for try await item in group { result.append(item) }
                    return result.sorted { $0.0 < $1.0 }.map(\.1)
                }
            }
            return GuestCPUResult(version: inputs.version, arch: inputs.arch, accelerator: accelerator, prediction: prediction,
                                  realized: realized, check: check, topology: topology)
        case .monitor(let endpoint):
            let inputs = try await session(.monitor(endpoint)).run { client in
                try await gatherInputs(client: client, spec: spec, reference: nil)
            }
            return GuestCPUResult(version: inputs.version, arch: inputs.arch, accelerator: accelerator,
                                  prediction: GuestCPUPredictor.predict(inputs), realized: [], check: check, topology: topology)
        case .replay(let path, let mode):
            let sessions = try QEMUSession.recordedSessions(path)
            guard let recorded = sessions.first(where: { $0.header.accelerator == accelerator }) ?? sessions.first else {
                throw ProberError.invalidInput("\(path): no session")
            }
            var inputs = try await session(.replay(recorded, mode: mode)).run { client in
                try await gatherInputs(client: client, spec: spec, reference: nil)
            }
            inputs.accelerator = recorded.header.accelerator ?? accelerator
            if inputs.arch == nil { inputs.arch = recorded.header.arch }
            return GuestCPUResult(version: inputs.version, arch: inputs.arch, accelerator: inputs.accelerator,
                                  prediction: GuestCPUPredictor.predict(inputs), realized: [], check: check, topology: topology)
        }
    }

    /// A session of this check (its timeout).
    private func session(_ endpoint: QEMUSession.Endpoint) -> QEMUSession {
        var session = QEMUSession(endpoint)
        session.timeout = timeout
        return session
    }

    // MARK: Prediction inputs

    private func gatherInputs(client: QMPClient, spec: CPUSpec,
                              reference: (String, CPUModelExpansion)?) async throws -> GuestCPUPredictor.Inputs {
        guard let version = client.greeting?.version else { throw ProberError.qmp(.invalidState("not connected")) }
        let definitions: [CPUDefinition]
        switch try await client.cpuDefinitions() {
        case .value(let list): definitions = list
        case .unavailable(let error): throw ProberError.qmp(error)
        case .failure(let reason): throw ProberError.qmp(.protocolError(reason))
        }
        guard let definition = definitions.first(where: { $0.name == spec.model }) else {
            let suggestions = NameSuggestions.nearest(to: spec.model, in: definitions.map(\.name))
            throw ProberError.invalidInput("unknown CPU model '\(spec.model)'"
                + (suggestions.isEmpty ? "" : "; did you mean \(suggestions.map { "'\($0)'" }.joined(separator: ", "))?"))
        }
        let arch = try await client.queryTarget().value
        // An alias expands as its target (as the probe records it); the realized CPU uses the name asked for.
        let expanded = definition.aliasOf.flatMap { target in definitions.contains { $0.name == target } ? target : nil } ?? spec.model
        async let full = expand(client, "full", expanded, props: nil)
        async let plain = expand(client, "static", expanded, props: nil)
        async let host = expand(client, "static", accelerator == "kvm" ? "host" : "max", props: nil)
        let (fullExpansion, plainExpansion, hostExpansion) = try await (full, plain, host)
        // Every spelling QEMU knows for this model's properties.
        let known = Set(fullExpansion.props.keys).union(plainExpansion.props.keys)
        for (name, _) in spec.features where !known.contains(name) && !known.contains(FeatureNames().canonical(name)) {
            let suggestions = NameSuggestions.nearest(to: name, in: known.filter { fullExpansion.props[$0]?.boolValue != nil || plainExpansion.props[$0]?.boolValue != nil })
            throw ProberError.invalidInput("unknown CPU feature '\(name)' for \(spec.model)"
                + (suggestions.isEmpty ? "" : "; did you mean \(suggestions.map { "'\($0)'" }.joined(separator: ", "))?"))
        }
        var props = JSONObject()
        for (name, request) in spec.features { props[name] = .bool(request != .off) }
        for (name, value) in spec.properties { props[name] = Int64(value).map(JSON.int) ?? .string(value) }
        let withRequests = props.isEmpty ? plainExpansion : try await expand(client, "static", expanded, props: props)
        let hostNames = FeatureNames(canonical: hostExpansion.props.keys, arch: arch)
        return GuestCPUPredictor.Inputs(
            spec: spec, accelerator: accelerator, version: version, arch: arch, plain: plainExpansion,
            withRequests: withRequests, reference: reference.map { (accelerator: $0.0, expansion: $0.1) },
            hostFeatures: hostExpansion.enabled(names: hostNames), blockers: definition.unavailableFeatures ?? [],
            optional: optional)
    }

    private func realize(binary: String, spec: CPUSpec, machine: String?) async throws -> RealizedCPU {
        let guest = GuestConfiguration(cpu: spec.commandLine, machine: machine, topology: topology, accelerator: accelerator)
        return try await GuestRealization.realize(binary: binary, guest: guest, timeout: timeout)
    }

    private func expand(_ client: QMPClient, _ type: String, _ model: String, props: JSONObject?) async throws -> CPUModelExpansion {
        switch try await client.expandCPUModel(model, type: type, props: props) {
        case .value(let expansion): return expansion
        case .unavailable(.commandFailed(let failure)):
            throw ProberError.invalidInput("QEMU cannot expand this CPU: \(failure.errorDescription)")
        case .unavailable(let error): throw ProberError.qmp(error)
        case .failure(let reason): throw ProberError.qmp(.protocolError(reason))
        }
    }
}
