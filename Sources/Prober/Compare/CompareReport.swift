import QMP

/// `qmp-probe compare`: for each CPU model (or one given CPU), per accelerator, could a guest started on the
/// source (SRC) run on the destination (DST)? The same answer serves live migration and restoring a saved image.
public struct CompareReport: Sendable {
    /// The schema identifier written in the JSON.
    package static let schemaID = "qmp-probe/compare-report/1"

    /// One side of the comparison.
    package struct Side: Sendable {
        /// The host's label.
        package var label: String
        /// The files it was read from.
        package var paths: [String]
        /// Its QEMU's version.
        package var version: QEMUVersion
        /// Its target architecture.
        package var arch: String?
    }

    /// The verdicts of one accelerator.
    public struct Accelerator: Sendable {
        /// `kvm`, `tcg`.
        public var name: String
        /// What SRC's `added` features were taken against (e.g. `tcg in the same QEMU`), nil when unknown.
        package var sourceReference: String?
        /// One verdict per model (SRC's order), or the one asked for.
        public var verdicts: [ModelVerdict]
        /// What limits the answer, in plain words.
        package var notes: [String]
    }

    /// The source host.
    package var source: Side
    /// The destination host.
    package var destination: Side
    /// The CPU asked for (`--cpu`/`--domain`), nil for every model.
    package var cpu: CPUSpec?
    /// Per accelerator compared.
    public var accelerators: [Accelerator]

    /// Whether everything asked for is compatible.
    public var compatible: Bool { accelerators.allSatisfy { $0.verdicts.allSatisfy(\.compatible) } }

    /// Compares `source` with `destination` for `accelerators` (default: every accelerator both have), for every
    /// model SRC lists or only `cpu`.
    /// - Throws: ``ProberError/invalidInput(_:)`` when an accelerator is missing on either side, none is shared,
    ///   or SRC does not know the model of `cpu`.
    public static func compute(source: HostResult, destination: HostResult, accelerators requested: [String]? = nil,
                               cpu: CPUSpec? = nil) throws -> CompareReport {
        let names: [String]
        if let requested {
            for name in requested {
                for host in [source, destination] where host.accelerator(name) == nil {
                    throw ProberError.invalidInput("\(host.label) has no \(name) result (it has: \(host.acceleratorNames.joined(separator: ", ")))")
                }
            }
            names = requested
        } else {
            names = source.acceleratorNames.filter { destination.accelerator($0) != nil }
            guard !names.isEmpty else {
                throw ProberError.invalidInput("nothing to compare: \(source.label) has \(source.acceleratorNames.joined(separator: ", ")), \(destination.label) has \(destination.acceleratorNames.joined(separator: ", ")) (kvm is compared with kvm, tcg with tcg)")
            }
        }
        var index = FeatureIndex(arch: source.report.arch ?? destination.report.arch)
        var sections: [Accelerator] = []
        for name in names {
            let sourceSection = source.accelerator(name)!
            let src = AcceleratorCapabilities(sourceSection, index: &index)
            let dst = AcceleratorCapabilities(destination.accelerator(name)!, index: &index)
            var notes: [String] = []
            let specs: [CPUSpec]
            if let cpu {
                guard src.model(cpu.model) != nil else {
                    throw ProberError.invalidInput("\(source.label) (\(name)) has no CPU model '\(cpu.model)'")
                }
                specs = [cpu]
            } else {
                specs = src.models.map { CPUSpec(model: $0.name) }
            }
            if src.models.contains(where: { $0.enabled == nil }) {
                notes.append("\(source.label) has no per-model expansions (\(name)): guest features are unknown; models are checked by DST's unavailable-features")
            }
            if dst.known == nil { notes.append("\(destination.label) has no host model (\(name)): which features its QEMU knows is unknown") }
            if src.reference == nil, name != "tcg" {
                notes.append("\(source.label) has no reference for \(name): features its QEMU added on its own are not flagged (give its tcg result too: PATH-kvm,PATH-tcg)")
            }
            var verdicts: [ModelVerdict] = []
            for spec in specs {
                // A destination without versioned models (QEMU before 4.1) only runs old machine types, where the
                // source resolves the name to the legacy definition, `-v1`.
                var definition: String?
                if let alias = src.model(spec.model)?.aliasOf, let named = dst.model(spec.model), named.aliasOf == nil,
                   dst.model(alias) == nil, src.model(spec.model + "-v1") != nil {
                    definition = spec.model + "-v1"
                }
                guard let guest = GuestCPU(spec: spec, on: src, definition: definition, index: &index) else { continue }
                var verdict = CompatibilityCheck.check(guest, on: dst, index: index)
                verdict.sourceUsable = src.model(spec.model)?.usable
                verdicts.append(verdict)
            }
            sections.append(Accelerator(name: name, sourceReference: src.reference, verdicts: verdicts, notes: notes))
        }
        func side(_ host: HostResult) -> Side {
            Side(label: host.label, paths: host.paths, version: host.report.version, arch: host.report.arch)
        }
        return CompareReport(source: side(source), destination: side(destination), cpu: cpu, accelerators: sections)
    }
}
