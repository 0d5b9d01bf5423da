/// Incus's CPU of a cluster group's virtual machines (https://linuxcontainers.org/incus/docs/main/howto/cluster_groups/):
/// `instances.vm.cpu.ARCH.baseline` (a QEMU model name) and `instances.vm.cpu.ARCH.flags` (a comma-separated list of
/// `+flag`/`-flag` that Incus appends to QEMU's `-cpu` as they are, so in QEMU's spelling). Printed as the group's
/// `config` in YAML: set each key with `incus cluster group set GROUP KEY VALUE`, or merge it into
/// `incus cluster group edit GROUP`.
package enum IncusCPUFormat {
    /// Incus's architecture names (`osarch`) of QEMU's targets, where they are one to one.
    static let architectures = ["x86_64": "x86_64", "aarch64": "aarch64", "s390x": "s390x", "riscv64": "riscv64"]

    /// The YAML.
    /// - Throws: ``PlatformFormatError`` when the target has no one Incus architecture name.
    package static func render(_ cpu: BaselineReport.BaselineCPU, context: PlatformContext) throws(PlatformFormatError) -> String {
        guard let arch = context.arch.flatMap({ architectures[$0] }) else {
            throw PlatformFormatError(platform: "incus", reasons: ["no Incus architecture name for QEMU target \(context.arch ?? "unknown")"])
        }
        var lines = ["config:", "  instances.vm.cpu.\(arch).baseline: \(YAMLScalar.quoted(cpu.model))"]
        let flags = cpu.plus.map { "+" + $0 } + cpu.minus.map { "-" + $0 }
        if !flags.isEmpty { lines.append("  instances.vm.cpu.\(arch).flags: \(YAMLScalar.quoted(flags.joined(separator: ",")))") }
        return lines.joined(separator: "\n") + "\n"
    }
}
