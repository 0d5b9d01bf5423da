/// Proxmox VE's custom CPU model (qemu-server `PVE/QemuServer/CPUConfig.pm`; the `cpu-models.conf` section of the
/// Proxmox VE admin guide): a `cpu-model: NAME` section of `/etc/pve/virtual-guest/cpu-models.conf` with
/// `reported-model` (one of Proxmox's built-in models) and `flags` (`+FLAG;-FLAG`, QEMU's spelling). A VM uses it as
/// `cpu: custom-NAME`. A custom model takes any flag QEMU knows; a VM's own `cpu: MODEL,flags=...` takes only
/// Proxmox's short list (``vmFlags``), which is why the baseline is written as a custom model.
package enum ProxmoxCPUFormat {
    /// The section's name (the VM's `cpu: custom-fleet-baseline`).
    package static let modelName = "fleet-baseline"

    /// The models `reported-model` accepts: qemu-server's `$cpu_vendor_list`.
    package static let reportedModels: Set<String> = [
        "486", "pentium", "pentium2", "pentium3", "coreduo", "core2duo", "Conroe", "Penryn", "Nehalem", "Nehalem-IBRS",
        "Westmere", "Westmere-IBRS", "SandyBridge", "SandyBridge-IBRS", "IvyBridge", "IvyBridge-IBRS", "Haswell",
        "Haswell-IBRS", "Haswell-noTSX", "Haswell-noTSX-IBRS", "Broadwell", "Broadwell-IBRS", "Broadwell-noTSX",
        "Broadwell-noTSX-IBRS", "Skylake-Client", "Skylake-Client-IBRS", "Skylake-Client-noTSX-IBRS", "Skylake-Client-v4",
        "Skylake-Server", "Skylake-Server-IBRS", "Skylake-Server-noTSX-IBRS", "Skylake-Server-v4", "Skylake-Server-v5",
        "Cascadelake-Server", "Cascadelake-Server-v2", "Cascadelake-Server-noTSX", "Cascadelake-Server-v4",
        "Cascadelake-Server-v5", "Cooperlake", "Cooperlake-v2", "KnightsMill", "Icelake-Client", "Icelake-Client-noTSX",
        "Icelake-Server", "Icelake-Server-noTSX", "Icelake-Server-v3", "Icelake-Server-v4", "Icelake-Server-v5",
        "Icelake-Server-v6", "Icelake-Server-v7", "SapphireRapids", "SapphireRapids-v2", "SapphireRapids-v3",
        "SapphireRapids-v4", "GraniteRapids", "GraniteRapids-v2", "GraniteRapids-v3", "SierraForest", "SierraForest-v2",
        "SierraForest-v3", "ClearwaterForest",
        "athlon", "phenom", "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5", "EPYC", "EPYC-IBPB",
        "EPYC-v3", "EPYC-v4", "EPYC-v5", "EPYC-Rome", "EPYC-Rome-v2", "EPYC-Rome-v3", "EPYC-Rome-v4", "EPYC-Rome-v5",
        "EPYC-Milan", "EPYC-Milan-v2", "EPYC-Milan-v3", "EPYC-Genoa", "EPYC-Genoa-v2", "EPYC-Turin",
        "host", "kvm32", "kvm64", "qemu32", "qemu64", "max",
    ]

    /// The flags a VM's own `cpu:` line accepts (qemu-server's `$supported_cpu_flags`).
    package static let vmFlags: Set<String> = [
        "nested-virt", "md-clear", "pcid", "spec-ctrl", "ssbd", "ibpb", "virt-ssbd", "amd-ssbd", "amd-no-ssb", "pdpe1gb",
        "hv-tlbflush", "hv-evmcs", "aes",
    ]

    /// The `cpu-model` section.
    /// - Throws: ``PlatformFormatError`` when the model is not one `reported-model` accepts, or a flag does not match
    ///   Proxmox's flag syntax (`[a-zA-Z0-9-_.]+`).
    package static func render(_ cpu: BaselineReport.BaselineCPU, context: PlatformContext) throws(PlatformFormatError) -> String {
        var reasons: [String] = []
        if !reportedModels.contains(cpu.model) {
            reasons.append("reported-model must be one of Proxmox's built-in models, and \(cpu.model) is not among them")
        }
        let flags = cpu.plus.map { "+" + $0 } + cpu.minus.map { "-" + $0 }
        for flag in flags where !flag.dropFirst().allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            reasons.append("\(flag) is not a flag Proxmox's syntax accepts")
        }
        guard reasons.isEmpty else { throw PlatformFormatError(platform: "proxmox", reasons: reasons) }
        var lines = ["cpu-model: \(modelName)"]
        if !flags.isEmpty { lines.append("\tflags \(flags.joined(separator: ";"))") }
        lines.append("\treported-model \(cpu.model)")
        return lines.joined(separator: "\n") + "\n"
    }
}
