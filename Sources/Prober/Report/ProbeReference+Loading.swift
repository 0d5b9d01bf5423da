import QMP

/// The references of `probe --against`: another QEMU's result, read like a `compare` argument
/// (`[LABEL=]PATH[,PATH...]`: a `probe --json` result, one of our recordings or a libvirt `.replies` file), one
/// reference per accelerator it holds (``ProbeReference/Kind/external``).
///
/// Every kind is read through ``HostResultLoader`` into a ``ProbeReport``; each accelerator's section then stands as
/// a reference probe whose models turn on exactly the features the section lists as `enabled`. A report's `added` and
/// `removed` depend on the reference only through those enabled features (in the reference's canonical names), so the
/// result is the one the reference's raw recording gives.
extension ProbeReference {
    /// A reference for ``ProbeRunner/run(against:)``: what it is called in the report, and the probe.
    public typealias Reference = (label: String, probe: AcceleratorProbe)

    /// The references in `argument`, by accelerator, each labelled with its accelerator, QEMU version and files
    /// (`kvm in QEMU 7.2.22 (old-kvm.jsonl)`).
    /// - Throws: ``ProberError`` naming the file when it is missing or not one of the accepted kinds, and any
    ///   `QMPError` of replaying a recording.
    public static func load(_ argument: String) async throws -> [String: Reference] {
        let host = try await HostResultLoader.load(argument)
        var references: [String: Reference] = [:]
        for section in host.report.accelerators {
            let label = "\(section.name) in QEMU \(host.report.version) (\(host.paths.joined(separator: ", ")))"
            references[section.name] = (label, probe(of: section, in: host.report))
        }
        return references
    }

    /// A probe whose definitions are the section's model names (all a reference is asked for) and whose every
    /// expanded model turns on its `enabled` features (the same expansion serves as static and full, whichever the
    /// target reads). Every expansion lists the same properties, every feature any model enables, in one order, as
    /// QEMU's expansions do: the report reads them in one pass each (`EnabledFeatureReader`).
    static func probe(of section: ProbeReport.Accelerator, in report: ProbeReport) -> AcceleratorProbe {
        var probe = AcceleratorProbe(accelerator: section.name, version: report.version, arch: report.arch)
        probe.definitions = section.models.compactMap { CPUDefinition(["name": .string($0.name)]) }
        let features = Set(section.models.flatMap { $0.enabled ?? [] }).sorted()
        for model in section.models {
            guard let enabled = model.enabled else { continue }
            let on = Set(enabled)
            let expansion = CPUModelExpansion(model: model.name, props: JSONObject(features.map { ($0, JSON.bool(on.contains($0))) }))
            probe.expansions[model.name] = AcceleratorProbe.ModelExpansions(staticExpansion: expansion, fullExpansion: expansion)
        }
        return probe
    }
}
