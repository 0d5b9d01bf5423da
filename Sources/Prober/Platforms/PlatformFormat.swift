/// The configurations `--format` prints: a CPU in one platform's own spelling, ready to paste or apply.
public enum PlatformFormat: String, Sendable, CaseIterable {
    /// libvirt's domain `<cpu>` (`LibvirtCPUFormat`).
    case libvirt
    /// QEMU's `-cpu` argument.
    case qemu
    /// OpenStack Nova's `[libvirt]` section of `nova.conf` (`NovaCPUFormat`).
    case nova
    /// KubeVirt's `spec.domain.cpu` of a VirtualMachine (`KubeVirtCPUFormat`).
    case kubevirt
    /// The node labels KubeVirt's node-labeller derives (`KubeVirtNodeLabels`).
    case kubevirtLabels = "kubevirt-labels"
    /// Proxmox VE's custom model in `/etc/pve/virtual-guest/cpu-models.conf` (`ProxmoxCPUFormat`).
    case proxmox
    /// Incus's cluster-group CPU baseline and flags (`IncusCPUFormat`).
    case incus

    /// The names `--format` takes.
    package static var names: String { allCases.map(\.rawValue).joined(separator: "|") }

    /// Renders `cpu` for this platform (every format but ``kubevirtLabels``, which describes hosts, not a CPU).
    /// - Throws: ``PlatformFormatError`` naming everything of `cpu` this platform cannot express.
    package func render(_ cpu: BaselineReport.BaselineCPU, context: PlatformContext) throws(PlatformFormatError) -> String {
        switch self {
        case .libvirt: return try LibvirtCPUFormat.render(cpu, context: context)
        case .qemu: return cpu.cpuString + "\n"
        case .nova: return try NovaCPUFormat.render(cpu, context: context)
        case .kubevirt: return try KubeVirtCPUFormat.render(cpu, context: context)
        case .proxmox: return try ProxmoxCPUFormat.render(cpu, context: context)
        case .incus: return try IncusCPUFormat.render(cpu, context: context)
        case .kubevirtLabels:
            throw PlatformFormatError(platform: rawValue, reasons: ["node labels describe hosts, not a CPU (PlatformOutput renders them)"])
        }
    }
}

/// What a platform's configuration needs beyond the CPU: the target, the accelerator, the hosts' vendor.
package struct PlatformContext: Sendable {
    /// QEMU's target architecture (`x86_64`).
    package var arch: String?
    /// `kvm` or `tcg`.
    package var accelerator: String
    /// The hosts' vendor in QEMU's spelling (`AuthenticAMD`), when one.
    package var vendor: String?

    /// A context from its parts.
    package init(arch: String?, accelerator: String, vendor: String?) {
        self.arch = arch
        self.accelerator = accelerator
        self.vendor = vendor
    }
}

/// A platform cannot express a CPU: every reason is named (nothing is dropped silently).
public struct PlatformFormatError: Error, Sendable, CustomStringConvertible {
    /// The format (`proxmox`).
    package var platform: String
    /// What it cannot express, one reason each.
    package var reasons: [String]
    /// The platform could express it, but there is no CPU to give it (none fits, or it does not run everywhere).
    package var noCPU: Bool

    /// An error from its parts.
    package init(platform: String, reasons: [String], noCPU: Bool = false) {
        self.platform = platform
        self.reasons = reasons
        self.noCPU = noCPU
    }

    public var description: String {
        (noCPU ? "no \(platform) configuration: " : "\(platform) cannot express this CPU: ") + reasons.joined(separator: "; ")
    }
}

/// YAML scalars the platform formats write: always double-quoted (JSON's escapes, which YAML reads the same), so that
/// model names such as `486` stay strings and flags such as `-svm` are never read as anything else.
enum YAMLScalar {
    /// The characters written as a backslash escape.
    static let escapes: [Unicode.Scalar: String] = ["\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\t": "\\t"]

    /// `text` as a double-quoted YAML scalar: the escapes above, other control characters as `\uXXXX`.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if let escape = escapes[scalar] {
                out += escape
            } else if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
