/// What `--format` prints for a fleet (``BaselineReport``) or one host: the configuration alone, or an error naming
/// why there is none.
public enum PlatformOutput {
    /// The accelerator a format describes: the report's only one, else `kvm` (what every platform runs), else the first.
    package static func accelerator(of report: BaselineReport) -> BaselineReport.Accelerator? {
        report.accelerators.count == 1 ? report.accelerators.first
            : report.accelerators.first { $0.name == "kvm" } ?? report.accelerators.first
    }

    /// The configuration of `format` for the fleet of `report` (read from `hosts`): the operator's CPU when one was
    /// checked, else the baseline CPU; for ``PlatformFormat/kubevirtLabels`` the node labels of the one host, or those
    /// every host shares.
    /// - Throws: ``PlatformFormatError`` when there is no CPU, when it does not run on every host, or when the
    ///   platform cannot express it; ``ProberError`` when labels cannot be derived.
    public static func render(_ format: PlatformFormat, report: BaselineReport, hosts: [HostResult]) throws -> String {
        if format == .kubevirtLabels {
            return KubeVirtNodeLabels.yaml(hosts.count == 1 ? try KubeVirtNodeLabels.labels(of: hosts[0]) : try KubeVirtNodeLabels.shared(hosts))
        }
        guard let section = accelerator(of: report), let cpu = section.checked ?? section.baseline else {
            throw PlatformFormatError(platform: format.rawValue, reasons: ["there is no baseline CPU (no model fits every host; see the report without --format)"], noCPU: true)
        }
        guard cpu.runsEverywhere else {
            let hostsText = cpu.blockedOn.map { block in
                let labels = block.hosts.prefix(4).map { report.hosts[$0].label }.joined(separator: ", ") + (block.hosts.count > 4 ? ", ..." : "")
                var why: [String] = block.missingModel ? ["no model \(cpu.model)"] : []
                if !block.cannotGive.isEmpty { why.append("cannot give " + block.cannotGive.joined(separator: " ")) }
                if !block.unknown.isEmpty { why.append("does not know " + block.unknown.joined(separator: " ")) }
                return "\(labels): \(why.joined(separator: ", "))"
            }
            throw PlatformFormatError(platform: format.rawValue, reasons: ["\(cpu.cpuString) does not run on every host (\(section.name)): " + hostsText.joined(separator: "; ")], noCPU: true)
        }
        return try format.render(cpu, context: PlatformContext(arch: report.arch, accelerator: section.name, vendor: section.vendor))
    }
}
