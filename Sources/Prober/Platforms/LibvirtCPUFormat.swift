/// libvirt's domain XML `<cpu>` (https://libvirt.org/formatdomain.html#cpu-model-and-topology): `mode='custom'`
/// `match='exact'`, `<model fallback='forbid'>`, the hosts' `<vendor>` when the model is of that vendor (as
/// `virsh hypervisor-cpu-baseline` writes it), and `<feature policy='require|disable' name=...>` in libvirt's
/// spelling (``LibvirtFeatureNames``: `pclmuldq`, `lahf_lm`, `cmp_legacy`, ...). Nova and KubeVirt hand the same
/// names to libvirt, so they share `switches(_:platform:)`.
package enum LibvirtCPUFormat {
    /// The `<cpu>` element, or every feature libvirt has no CPU feature for.
    /// - Throws: ``PlatformFormatError`` for KVM paravirtual (`kvm-*`, `kvmclock`) and Hyper-V (`hv-*`) features,
    ///   which libvirt configures under `<features>` and `<clock>`, not in `<cpu>`.
    package static func render(_ cpu: BaselineReport.BaselineCPU, context: PlatformContext) throws(PlatformFormatError) -> String {
        let (text, refused) = xml(cpu, vendor: context.vendor, refusing: true, arch: context.arch)
        guard refused.isEmpty else { throw PlatformFormatError(platform: "libvirt", reasons: refused) }
        return text + "\n"
    }

    /// The element; with `refusing`, features libvirt cannot express are returned as reasons, otherwise they are
    /// named in an XML comment (the report's summary view).
    static func xml(_ cpu: BaselineReport.BaselineCPU, vendor: String?, refusing: Bool, arch: String? = nil) -> (text: String, refused: [String]) {
        var lines = ["<cpu mode='custom' match='exact'>", "  <model fallback='forbid'>\(cpu.model)</model>"]
        if let vendor, cpu.modelVendor == vendor { lines.append("  <vendor>\(CPUVendor.libvirtName(vendor))</vendor>") }
        let (switches, refused) = switches(cpu, platform: "libvirt", arch: refusing ? arch : nil)
        for (name, on) in switches { lines.append("  <feature policy='\(on ? "require" : "disable")' name='\(name)'/>") }
        if !refusing, !refused.isEmpty {
            lines.append("  <!-- KVM paravirtual features, not CPU features to libvirt (left out): \(refused.map(\.switch).joined(separator: " ")) -->")
        }
        lines.append("</cpu>")
        return (lines.joined(separator: "\n"), refusing ? refused.map(\.reason) : [])
    }

    /// The switches in libvirt's spelling (`true` on, `false` off), and a reason for each feature libvirt has no CPU
    /// feature for: KVM paravirtual and Hyper-V features, and on x86 (`arch`) names not in libvirt's CPU map
    /// (``LibvirtCPUMap``).
    static func switches(_ cpu: BaselineReport.BaselineCPU, platform: String, arch: String?)
        -> (switches: [(String, Bool)], refused: [(switch: String, reason: String)]) {
        var switches: [(String, Bool)] = []
        var refused: [(switch: String, reason: String)] = []
        for (features, on) in [(cpu.plus, true), (cpu.minus, false)] {
            for feature in features {
                guard LibvirtFeatureNames.isCPUFeature(feature), let name = LibvirtFeatureNames.libvirtName(forQEMU: feature) else {
                    let kind = feature.hasPrefix("hv-") ? "a Hyper-V enlightenment" : "a KVM paravirtual feature"
                    let text = (on ? "+" : "-") + feature
                    refused.append((text, "\(text) is \(kind), not a CPU feature to libvirt (\(platform) sets it outside the CPU model)"))
                    continue
                }
                if let arch, ["x86_64", "i386"].contains(arch), !LibvirtCPUMap.x86Features.contains(name) {
                    let text = (on ? "+" : "-") + feature
                    refused.append((text, "\(text): libvirt has no CPU feature \(name) (not in its x86 CPU map; \(platform) hands features to libvirt)"))
                    continue
                }
                switches.append((name, on))
            }
        }
        return (switches, refused)
    }
}
