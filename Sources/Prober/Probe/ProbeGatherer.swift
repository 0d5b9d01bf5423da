import Foundation
import Synchronization
import Logging
import QMP

/// Holds the QMP conversation of a CPU probe: asks one QEMU session (live or replayed) everything the
/// reports need, pipelining the per-model expansions, and degrades to notes when a command is missing.
public struct ProbeGatherer: Sendable {
    /// The negotiated client.
    public let client: QMPClient
    /// The accelerator this session runs (`kvm`, `tcg`); for a replay, the recording's.
    public let accelerator: String
    /// Whether to expand every model (static and full); the host model is always expanded.
    public var expandModels: Bool = true
    /// Models whose expansion to gather (nil: every model QEMU lists).
    public var onlyModels: Set<String>?
    /// The target architecture to assume when QEMU does not answer `query-target` (a replayed session's header).
    package var archHint: String?
    /// Called after each per-model command completes (done, total), for a progress line.
    package var progress: (@Sendable (Int, Int) -> Void)?
    /// Other sessions of the same QEMU binary and accelerator (other QEMU processes) that take a share of the work:
    /// each closure returns its connected client once that QEMU is ready (nil when it could not start: the others
    /// do its share). The first one asks for the introspection (`query-commands`) while this session asks
    /// for the definitions and the host model; then every session takes the next per-model expansion as soon as it
    /// has room, so a QEMU that starts late or runs slower takes fewer. The gathered probe is the same as with one
    /// session.
    package var helpers: [@Sendable () async -> QMPClient?] = []
    /// An introspection shared with the sessions probing the other accelerators of the same QEMU binary (the QAPI
    /// schema is built into the binary): only the first session to need it asks QEMU. Nil: this session asks.
    package var introspection: SharedIntrospection?
    /// Whether this session only serves as another accelerator's reference (`probe --accel kvm` probes TCG quietly
    /// for `added`/`removed`): it asks for what that needs alone, the target, the definitions and each model's
    /// expansion, and neither the host model nor the accelerator state.
    package var referenceOnly = false
    /// Where this session hands its CPU definitions to a quiet reference of the same binary (set on the session
    /// whose reference it is), or, on the reference, where it takes them from instead of asking.
    var sharedDefinitions: SharedDefinitions?

    /// A gatherer for `client`, labelled with `accelerator`.
    public init(client: QMPClient, accelerator: String) {
        self.client = client
        self.accelerator = accelerator
    }

    /// Runs the probe conversation.
    /// - Throws: ``ProberError/qmp(_:)`` when the connection fails; a refused or unrecorded command only adds a note.
    public func gather() async throws -> AcceleratorProbe {
        guard let greeting = client.greeting else { throw ProberError.qmp(.invalidState("the client is not connected")) }
        if referenceOnly { return try await gatherReference(version: greeting.version) }
        // A reference waiting for the definitions is not left waiting, whatever happens.
        defer { sharedDefinitions?.publish(nil) }
        if !helpers.isEmpty || introspection != nil { return try await gatherSpread(version: greeting.version) }
        var probe = AcceleratorProbe(accelerator: accelerator, version: greeting.version, arch: nil)

        // Introspection, target and accelerator state: independent, so pipelined.
        async let target = optional("query-target", into: nil)
        async let accelerators = acceleratorState(version: greeting.version)
        async let commands = optional("query-commands", into: nil)
        async let definitions = optional("query-cpu-definitions", into: nil)
        let (targetReply, state, commandsReply, definitionsReply) = try await (target, accelerators, commands, definitions)

        probe.arch = targetReply.value?["arch"]?.stringValue ?? archHint
        if probe.arch == nil { probe.notes.append("query-target: \(targetReply.why)") }
        (probe.kvm, probe.acceleratorState) = state
        if let verdict = probe.acceleratorState?.verdict(expected: accelerator) { probe.notes.append(verdict) }
        if let list = commandsReply.value {
            probe.support = QEMUFeatureSupport(commandList: list)
        } else {
            // Recordings made before query-commands was preferred have the schema instead.
            let schema = try await optional("query-qmp-schema", into: nil)
            if let value = schema.value {
                probe.support = QEMUFeatureSupport(schema: value)
            } else {
                probe.notes.append("neither query-commands nor query-qmp-schema answered: \(schema.why)")
            }
        }
        if let list = definitionsReply.value?.arrayValue {
            probe.definitions = list.compactMap(CPUDefinition.init)
            sharedDefinitions?.publish(probe.definitions)
            if let note = Self.usabilityNote(probe.definitions, arch: probe.arch) { probe.notes.append(note) }
        } else {
            probe.notes.append(Self.definitionsNote(definitionsReply, support: probe.support, arch: probe.arch,
                                                    version: probe.version))
        }

        guard Self.canExpand(support: probe.support, arch: probe.arch, version: probe.version) else {
            probe.notes.append(CPUCommandLimits.expansionNote(arch: probe.arch, version: probe.version,
                                                              commandPresent: probe.support.has("query-cpu-model-expansion")))
            return probe
        }
        probe.hostModel = try await hostModel(arch: probe.arch, version: probe.version, notes: &probe.notes)
        if expandModels, let definitions = probe.definitions {
            let hostName = hostModelAmongTargets(definitions, arch: probe.arch)
            probe.expansions = try await expandAll(definitions, arch: probe.arch, skipping: hostName, notes: &probe.notes)
            // (None at all: the recording lacks per-model expansions.)
            if let hostName, !probe.expansions.isEmpty {
                try await completeHostModelExpansion(&probe.expansions, host: probe.hostModel, name: hostName,
                                                     definitions: definitions, arch: probe.arch, notes: &probe.notes)
            }
        }
        return probe
    }

    // MARK: Spread over several sessions

    /// The conversation of ``gather()`` spread over `helpers` and `introspection`: the introspection runs
    /// elsewhere (the first helper, or another accelerator's session) while this session asks for the target, the
    /// KVM state and the definitions; the host model (here) and the per-model expansions (shared) start without
    /// waiting for the introspection to say that `query-cpu-model-expansion` exists, and are dropped when it does
    /// not, as if never asked. Notes come in the order of the one-session conversation.
    func gatherSpread(version: QEMUVersion) async throws -> AcceleratorProbe {
        var probe = AcceleratorProbe(accelerator: accelerator, version: version, arch: nil)
        async let introspected = introspect(version: version)
        async let target = optional("query-target", into: nil)
        async let accelerators = acceleratorState(version: version)
        async let definitions = optional("query-cpu-definitions", into: nil)
        let targetReply = try await target
        probe.arch = targetReply.value?["arch"]?.stringValue ?? archHint
        let targetNote = probe.arch == nil ? "query-target: \(targetReply.why)" : nil
        // The host model needs only the target: asked now, it waits in QEMU's queue behind the definitions, so QEMU
        // has it to work on while the definitions' reply travels back and the per-model expansions are queued.
        // A target this QEMU cannot expand is not asked.
        let arch = probe.arch
        let expandable = CPUCommandLimits.implementsExpansion(arch: arch, version: version)
        async let host = expandable ? hostModelWithNotes(arch: arch, version: version) : (nil, [])
        let (state, definitionsReply) = try await (accelerators, definitions)
        (probe.kvm, probe.acceleratorState) = state
        let stateNote = probe.acceleratorState?.verdict(expected: accelerator)
        var definitionsNote: String?
        if let list = definitionsReply.value?.arrayValue {
            probe.definitions = list.compactMap(CPUDefinition.init)
            sharedDefinitions?.publish(probe.definitions)
            definitionsNote = Self.usabilityNote(probe.definitions, arch: probe.arch)
        }

        let known = probe.definitions
        let hostName = expandModels ? hostModelAmongTargets(known, arch: arch) : nil
        async let models = expandModels && expandable ? expandAllWithNotes(known, arch: arch, skipping: hostName) : ([:], [])
        let (support, supportNote) = try await introspected
        probe.support = support
        if probe.definitions == nil {
            definitionsNote = Self.definitionsNote(definitionsReply, support: support, arch: arch, version: version)
        }
        probe.notes = [targetNote, stateNote, supportNote, definitionsNote].compactMap { $0 }
        guard Self.canExpand(support: support, arch: arch, version: version) else {
            _ = try? await (host, models)
            probe.notes.append(CPUCommandLimits.expansionNote(arch: arch, version: version,
                                                              commandPresent: support.has("query-cpu-model-expansion")))
            return probe
        }
        let ((hostModel, hostNotes), (expansions, expansionNotes)) = try await (host, models)
        probe.hostModel = hostModel
        probe.expansions = expansions
        probe.notes += hostNotes + expansionNotes
        if let hostName, let known, !expansions.isEmpty {
            try await completeHostModelExpansion(&probe.expansions, host: hostModel, name: hostName, definitions: known,
                                                 arch: arch, notes: &probe.notes)
        }
        return probe
    }

    /// The conversation of a session that is only another accelerator's reference (``referenceOnly``): the target,
    /// the definitions (from the session it serves, through `sharedDefinitions`, when it has them: the same binary
    /// lists the same models) and the per-model expansions, with the introspection (shared, or asked here) to tell
    /// whether the expansions exist. The notes are not reported.
    func gatherReference(version: QEMUVersion) async throws -> AcceleratorProbe {
        var probe = AcceleratorProbe(accelerator: accelerator, version: version, arch: nil)
        async let introspected = introspect(version: version)
        async let target = optional("query-target", into: nil)
        let arch = try await target.value?["arch"]?.stringValue ?? archHint
        let handed = await sharedDefinitions?.value()
        let known = handed != nil ? handed
            : try await optional("query-cpu-definitions", into: nil).value?.arrayValue?.compactMap(CPUDefinition.init)
        probe.arch = arch
        probe.definitions = known
        let expandable = expandModels && CPUCommandLimits.implementsExpansion(arch: arch, version: version)
        async let expanded = expandable ? expandAllWithNotes(known, arch: arch) : ([:], [])
        probe.support = try await introspected.0
        let (expansions, notes) = try await expanded
        if Self.canExpand(support: probe.support, arch: probe.arch, version: version) {
            probe.expansions = expansions
            probe.notes = notes
        }
        return probe
    }

    /// What QEMU supports: from ``introspection`` when set, else asked on the first helper (this session when there
    /// is none, or when the helper fails).
    func introspect(version: QEMUVersion) async throws -> (QEMUFeatureSupport, String?) {
        let helper = helpers.first
        let fetch: @Sendable () async throws -> (QEMUFeatureSupport, String?) = { [self] in
            if let helper, let session = await helper() {
                if let answer = try? await introspect(on: session) { return answer }
            }
            return try await introspect(on: client)
        }
        guard let introspection else { return try await fetch() }
        return try await introspection.value(for: version, fetch: fetch)
    }

    /// `query-commands` (all the probe needs: which commands exist; 8 KB where the QAPI schema is 200 KB and
    /// grows QEMU by ~20 MB while it builds it), else `query-qmp-schema` (older recordings have only that), on
    /// `session`; with a note when neither answers.
    func introspect(on session: QMPClient) async throws -> (QEMUFeatureSupport, String?) {
        let commands = try await optional("query-commands", into: nil, on: session)
        if let list = commands.value { return (QEMUFeatureSupport(commandList: list), nil) }
        let schema = try await optional("query-qmp-schema", into: nil, on: session)
        if let value = schema.value { return (QEMUFeatureSupport(schema: value), nil) }
        return (QEMUFeatureSupport(), "neither query-commands nor query-qmp-schema answered: \(schema.why)")
    }

    func hostModelWithNotes(arch: String?, version: QEMUVersion) async throws -> (AcceleratorProbe.HostModel?, [String]) {
        var notes: [String] = []
        let model = try await hostModel(arch: arch, version: version, notes: &notes)
        return (model, notes)
    }

    func expandAllWithNotes(_ definitions: [CPUDefinition]?, arch: String?,
                            skipping: String? = nil) async throws -> ([String: AcceleratorProbe.ModelExpansions], [String]) {
        guard let definitions else { return ([:], []) }
        var notes: [String] = []
        let expansions = try await expandAll(definitions, arch: arch, skipping: skipping, notes: &notes)
        return (expansions, notes)
    }

    /// The accelerator state (``AcceleratorState``): `query-accelerators` on QEMU 10.2 and later (`query-kvm` is
    /// deprecated from 11.0), else, or when it gives no answer (an older recording), `query-kvm`. Returns
    /// `query-kvm`'s raw answer too, when that is what answered.
    func acceleratorState(version: QEMUVersion) async throws -> (JSON?, AcceleratorState?) {
        var command = AcceleratorState.command(for: version)
        var reply = try await optional(command, into: nil)
        if reply.value == nil && command != "query-kvm" {
            command = "query-kvm"
            reply = try await optional(command, into: nil)
        }
        guard let value = reply.value else { return (nil, nil) }
        // (JSON is ExpressibleByNilLiteral: a bare nil here would be JSON's null, not "no answer".)
        let kvm: JSON? = command == "query-kvm" ? .some(value) : .none
        return (kvm, AcceleratorState(command: command, reply: value))
    }

    /// Whether the probe can expand models: QEMU has `query-cpu-model-expansion` and implements it for the target.
    static func canExpand(support: QEMUFeatureSupport, arch: String?, version: QEMUVersion) -> Bool {
        support.has("query-cpu-model-expansion") && CPUCommandLimits.implementsExpansion(arch: arch, version: version)
    }

    /// The note for a `query-cpu-definitions` that gave no list: a recording that lacks it (QEMU has it) says so;
    /// otherwise ``CPUCommandLimits/definitionsNote(arch:version:error:)`` names the target's limit.
    static func definitionsNote(_ answer: Answer<JSON>, support: QEMUFeatureSupport, arch: String?,
                                version: QEMUVersion) -> String {
        guard case .unavailable(let error) = answer else { return "query-cpu-definitions: \(answer.why)" }
        if case .notRecorded = error {
            guard !support.has("query-cpu-definitions") else { return "query-cpu-definitions: \(answer.why)" }
            return CPUCommandLimits.definitionsNote(arch: arch, version: version, error: nil)
        }
        return CPUCommandLimits.definitionsNote(arch: arch, version: version, error: error)
    }

    /// The note to give when no definition carries `unavailable-features` (nil when some do).
    static func usabilityNote(_ definitions: [CPUDefinition]?, arch: String?) -> String? {
        guard definitions?.contains(where: { $0.unavailableFeatures != nil }) == false else { return nil }
        let target = QEMUTarget(arch: arch)
        return target.reportsUnavailableFeatures
            ? "this QEMU does not report unavailable-features: which models are usable is unknown"
            : "QEMU does not report unavailable-features on \(target.label): which models are usable is unknown"
    }

    // MARK: Host model

    /// The host model as libvirt derives it (``QEMUTarget/hostModelPolicy``): `host` (KVM) or `max` (TCG); on x86 a
    /// static expansion (on QEMU without canonical feature names, a static expansion followed by a full expansion
    /// of its result) and the same again with `migratable: false` (and from QEMU 10.1 a full one, for its deprecated
    /// properties); on s390x one static expansion (and a full one, for its features); elsewhere one full expansion (on an unknown target, a static one when full is refused).
    func hostModel(arch: String?, version: QEMUVersion, notes: inout [String]) async throws -> AcceleratorProbe.HostModel? {
        let target = QEMUTarget(arch: arch)
        let name = target.hostModelName(accelerator: accelerator)
        let isX86 = target.hostModelPolicy == .staticWithMigratability
        guard target.hostModelPolicy != .fullOnly else {
            let full = try await expansion("full", name: name, props: nil)
            if let expansion = full.value {
                return .init(name: name, method: .fullExpansion, expansion: expansion, nonMigratable: nil, full: expansion)
            }
            if target.family == .other {
                let staticAnswer = try await expansion("static", name: name, props: nil)
                if let expansion = staticAnswer.value {
                    return .init(name: name, method: .staticExpansion, expansion: expansion, nonMigratable: nil, full: nil)
                }
                notes.append("host model '\(name)': full expansion failed (\(full.why)), static expansion failed (\(staticAnswer.why))")
                return nil
            }
            notes.append("host model '\(name)': full expansion failed: \(full.why)")
            return nil
        }
        let canonical = isX86 ? try await namesFeaturesCanonically(arch: arch, version: version) : true
        var method: AcceleratorProbe.HostModelMethod = canonical ? .staticExpansion : .staticFull
        async let plain = expansion("static", name: name, props: nil)
        async let nonMigratable = isX86 ? expansion("static", name: name, props: ["migratable": false]) : .failure("not asked")
        // The full expansion gives the deprecated properties (libvirt's `<deprecatedFeatures>`, read from it when there
        // is one); on x86 only QEMU 10.1 and later report any (`deprecated-props` for every target): earlier x86 QEMU
        // is not asked, its full expansion feeds nothing else.
        let wantsFull = !isX86 || version.isAtLeast(10, 1)
        async let full = wantsFull ? expansion("full", name: name, props: nil) : .failure("not asked")
        let (first, second, fullView) = try await (plain, nonMigratable, full)
        guard var migratableExpansion = first.value else {
            notes.append("host model '\(name)': static expansion failed: \(first.why)")
            return nil
        }
        var nonMigratableExpansion = second.value
        if isX86 && nonMigratableExpansion == nil {
            notes.append("host model '\(name)': the expansion with migratable=false failed (\(second.why)): which features cannot migrate is unknown")
        }
        if method == .staticFull {
            // Static expansions of this QEMU use one spelling per feature: expand the result fully (every
            // spelling), passing it back exactly as returned; the same for the non-migratable pass.
            let expanded = try await expansion("full", name: migratableExpansion.model, props: migratableExpansion.props)
            if let value = expanded.value {
                migratableExpansion = value
                if let staticNonMigratable = nonMigratableExpansion {
                    let expandedNonMigratable = try await expansion("full", name: staticNonMigratable.model,
                                                                   props: staticNonMigratable.props)
                    nonMigratableExpansion = expandedNonMigratable.value
                    if nonMigratableExpansion == nil {
                        notes.append("host model '\(name)': full expansion of the migratable=false result failed (\(expandedNonMigratable.why)): which features cannot migrate is unknown")
                    }
                }
            } else {
                notes.append("host model '\(name)': full expansion of the static result failed (\(expanded.why)): only the static spellings are known")
                method = .staticExpansion
            }
        }
        return .init(name: name, method: method, expansion: migratableExpansion, nonMigratable: nonMigratableExpansion,
                     full: fullView.value)
    }

    /// Whether this x86 QEMU's static expansion uses its canonical feature names, so that no full expansion of the
    /// result is needed. libvirt's test is the `unavailable-features` property of the max CPU type (QEMU 4.1+);
    /// older QEMU is asked, and one without `qom-list-properties` (before 2.12) does not.
    func namesFeaturesCanonically(arch: String?, version: QEMUVersion) async throws -> Bool {
        if version.isAtLeast(4, 1) { return true }
        let typename = arch == "i386" ? "max-i386-cpu" : "max-x86_64-cpu"
        let reply = try await optional("qom-list-properties", into: ["typename": .string(typename)])
        guard let properties = reply.value?.arrayValue else { return false }
        return properties.contains { $0["name"]?.stringValue == "unavailable-features" }
    }

    // MARK: Commands

    /// A reply, or why there is none.
    typealias Answer = CPUQueryAnswer

    func expansion(_ type: String, name: String, props: JSONObject?,
                   on session: QMPClient? = nil) async throws -> Answer<CPUModelExpansion> {
        try await (session ?? client).expandCPUModel(name, type: type, props: props)
    }

    /// Runs a command; QEMU's refusal or a missing recording becomes an ``CPUQueryAnswer/unavailable(_:)``,
    /// a lost connection is thrown.
    func optional(_ name: String, into arguments: JSONObject?, on session: QMPClient? = nil) async throws -> Answer<JSON> {
        try await (session ?? client).answer(name, arguments: arguments)
    }
}
