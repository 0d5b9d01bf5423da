/// KubeVirt's guest CPU (https://kubevirt.io/user-guide/compute/virtual_hardware/#features): a VirtualMachine's
/// `spec.template.spec.domain.cpu` with `model` and `features` (`name`, `policy: require|disable`), names in
/// libvirt's spelling (KubeVirt writes them into the domain's `<cpu>`). A merge patch:
/// `kubectl patch vm NAME --type merge --patch-file FILE`.
package enum KubeVirtCPUFormat {
    /// The YAML patch.
    /// - Throws: ``PlatformFormatError`` for features libvirt has no CPU feature for.
    package static func render(_ cpu: BaselineReport.BaselineCPU, context: PlatformContext) throws(PlatformFormatError) -> String {
        let (switches, refused) = LibvirtCPUFormat.switches(cpu, platform: "kubevirt", arch: context.arch)
        guard refused.isEmpty else { throw PlatformFormatError(platform: "kubevirt", reasons: refused.map(\.reason)) }
        var lines = ["spec:", "  template:", "    spec:", "      domain:", "        cpu:",
                     "          model: \(YAMLScalar.quoted(cpu.model))"]
        if !switches.isEmpty {
            lines.append("          features:")
            for (name, on) in switches {
                lines.append("          - name: \(YAMLScalar.quoted(name))")
                lines.append("            policy: \(on ? "require" : "disable")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
