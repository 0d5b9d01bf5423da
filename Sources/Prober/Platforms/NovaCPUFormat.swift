/// OpenStack Nova's CPU configuration of its libvirt driver, the `[libvirt]` section of `nova.conf`
/// (`nova/conf/libvirt.py`: `cpu_mode`, `cpu_models`, `cpu_model_extra_flags`): `cpu_mode = custom`, the model in
/// `cpu_models`, and `cpu_model_extra_flags` as `+flag`/`-flag`, comma-separated, in libvirt's spelling (Nova hands
/// them to libvirt's `<feature>`; it reads them case-insensitively).
package enum NovaCPUFormat {
    /// The `[libvirt]` section.
    /// - Throws: ``PlatformFormatError`` for features libvirt has no CPU feature for.
    package static func render(_ cpu: BaselineReport.BaselineCPU, context: PlatformContext) throws(PlatformFormatError) -> String {
        let (switches, refused) = LibvirtCPUFormat.switches(cpu, platform: "nova", arch: context.arch)
        guard refused.isEmpty else { throw PlatformFormatError(platform: "nova", reasons: refused.map(\.reason)) }
        var lines = ["[libvirt]", "virt_type = \(context.accelerator == "kvm" ? "kvm" : "qemu")", "cpu_mode = custom",
                     "cpu_models = \(cpu.model)"]
        if !switches.isEmpty {
            lines.append("cpu_model_extra_flags = " + switches.map { ($0.1 ? "+" : "-") + $0.0 }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
