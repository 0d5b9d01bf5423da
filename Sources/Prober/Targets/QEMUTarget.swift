import Foundation

/// Everything the prober does differently per QEMU target architecture, in one place.
///
/// QEMU's CPU-model commands are generic in the QAPI schema but each target implements its own subset:
///
/// | target | expansion types | host model (libvirt's method) | usable/blockers | comparison, baseline |
/// | --- | --- | --- | --- | --- |
/// | x86 (`x86_64`, `i386`) | static (against the empty model `base`), full | static, again with `migratable: false`; static then full before QEMU 4.1 | yes | no |
/// | `s390x` | static (the `-base` model plus the features that differ from it), full | one static expansion | yes | yes |
/// | arm (`aarch64`, `arm`) | full only (QEMU 4.2+) | one full expansion | no | no |
/// | others | full (riscv, 8.2+), static (loongarch) | one full expansion, else one static expansion | no | no |
///
/// The host model is `host` under KVM (and hvf) and `max` otherwise, on every target. `host` needs KVM on arm and s390x
/// (QEMU refuses it, or does not list it, under TCG); on x86 it is `max` that requires KVM.
public struct QEMUTarget: Sendable, Equatable {
    /// The families of targets whose CPU-model commands behave alike.
    package enum Family: String, Sendable, Equatable {
        /// `x86_64` and `i386`.
        case x86
        /// `s390x`.
        case s390x
        /// `aarch64` and `arm`.
        case arm
        /// Any other target, or an unknown one.
        case other
    }

    /// How the host model is expanded (see ``AcceleratorProbe/HostModelMethod``).
    package enum HostModelPolicy: Sendable, Equatable {
        /// x86: a static expansion, repeated with `migratable: false` to mark what cannot migrate; before
        /// QEMU 4.1 (no canonical feature names) the static result is expanded fully (libvirt's "static-full").
        case staticWithMigratability
        /// s390x: one static expansion (QEMU reports no migratability).
        case staticOnly
        /// arm and others: one full expansion (no static expansion).
        case fullOnly
    }

    /// The target architecture as QEMU names it (`query-target`), or nil when unknown.
    package let arch: String?
    /// The family the architecture belongs to.
    package let family: Family

    /// The target for `arch` (QEMU's name: `x86_64`, `s390x`, `aarch64`, ...); nil is an unknown target.
    package init(arch: String?) {
        self.arch = arch
        switch arch {
        case "x86_64", "i386": family = .x86
        case "s390x": family = .s390x
        case "aarch64", "arm": family = .arm
        default: family = .other
        }
    }

    /// The target of a binary named `qemu-system-ARCH` (any directory), or nil for another name.
    package static func arch(ofBinary path: String) -> String? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let prefix = "qemu-system-"
        guard name.hasPrefix(prefix), name.count > prefix.count else { return nil }
        return String(name.dropFirst(prefix.count))
    }

    /// The machine type a probing QEMU starts with: `none` on every target.
    ///
    /// `none` creates no CPU and no devices, and on s390x it is what QEMU itself provides for probing: its
    /// machine-dependent switches (`cpu_model_allowed()`, `ri_allowed()`, ...) answer with the defaults of the
    /// newest `s390-ccw-virtio` machine when the machine is `none` (`hw/s390x/s390-virtio-ccw.c`,
    /// "libvirt is using the none machine to probe"). On QEMU 7.2, s390x under TCG gives the same definitions
    /// and expansions with `-machine none` as with `-machine s390-ccw-virtio`; older machine types
    /// (`s390-ccw-virtio-2.12`) change the models (the `qemu` model, the features of `z13`), which is a
    /// property of those machine types, not of probing.
    package var probeMachine: String { "none" }

    /// The model QEMU expands as the host model under `accelerator`: `host` under a hardware accelerator (KVM, or
    /// Hypervisor.framework, `hvf`, on macOS), `max` otherwise (as libvirt does).
    package func hostModelName(accelerator: String) -> String {
        Self.hardwareAccelerators.contains(accelerator) ? "host" : "max"
    }

    /// The hardware accelerators libvirt knows: KVM, and Hypervisor.framework (`hvf`) on macOS. A probe under one of
    /// them expands `host`; TCG is their reference.
    package static let hardwareAccelerators: Set<String> = ["kvm", "hvf"]

    /// How libvirt expands this target's host model.
    package var hostModelPolicy: HostModelPolicy {
        switch family {
        case .x86: return .staticWithMigratability
        case .s390x: return .staticOnly
        case .arm, .other: return .fullOnly
        }
    }

    /// The expansion type whose boolean properties are a model's features, each once, under QEMU's own name:
    /// `static` on x86 (its full expansion repeats features under other spellings and adds non-feature
    /// properties); `full` on s390x (its static expansion lists only the features that differ from the
    /// `-base` model) and everywhere else (full is all there is).
    package var featureExpansionType: String {
        family == .x86 ? "static" : "full"
    }

    /// The expansion of a model that lists its features: the ``featureExpansionType`` one; on x86 the full
    /// expansion when there is no static one, on targets outside x86, s390x and arm the static one when there is
    /// no full one (never on s390x, whose static expansion is a difference).
    package func featureExpansion(_ expansions: AcceleratorProbe.ModelExpansions?) -> CPUModelExpansion? {
        switch family {
        case .x86: return expansions?.staticExpansion ?? expansions?.fullExpansion
        case .s390x, .arm: return expansions?.fullExpansion
        case .other: return expansions?.fullExpansion ?? expansions?.staticExpansion
        }
    }

    /// Aliases QEMU registers for feature names that no normalization can see: x86 only
    /// (`target/i386/cpu.c`); s390x and arm features have one name each.
    public var featureAliases: [String: String] {
        family == .x86 ? FeatureNames.x86Aliases : [:]
    }

    /// The models of libvirt's ppc64 CPU map (`src/cpu_map/ppc64_*.xml`), in libvirt's spelling.
    static let libvirtPPC64Models = ["POWER6", "POWER7", "POWER8", "POWER9", "POWER10", "POWER11",
                                     "POWERPC_e5500", "POWERPC_e6500"]

    /// The name libvirt gives QEMU's CPU model `name` on this target. QEMU 2.11 lowercased the ppc model names
    /// (`power9`); libvirt gives a ppc64 model whose name equals one of its CPU map's models, ignoring case, the map's
    /// spelling (`POWER9`). Every other model, and every model of another target (32-bit ppc included), keeps
    /// QEMU's name. QEMU's ppc `-cpu` takes either spelling.
    public func libvirtModelName(_ name: String) -> String {
        guard arch == "ppc64" || arch == "ppc64le" else { return name }
        return Self.libvirtPPC64Models.first { $0.caseInsensitiveCompare(name) == .orderedSame } ?? name
    }

    /// Whether `query-cpu-definitions` says which models are usable (`unavailable-features`): x86 and s390x.
    package var reportsUnavailableFeatures: Bool {
        family == .x86 || family == .s390x
    }

    /// Whether QEMU implements `query-cpu-model-comparison` and `query-cpu-model-baseline`: s390x only.
    package var hasModelComparison: Bool { family == .s390x }

    /// Whether KVM can run this target's guests on a host of architecture `hostArch` whose `/dev/kvm` is
    /// `kvmUsable`: only the host's own target (and `i386` on `x86_64`, `arm` on `aarch64`); never an unknown one.
    package func runsUnderKVM(hostArch: String, kvmUsable: Bool) -> Bool {
        guard kvmUsable, let arch else { return false }
        return arch == hostArch || (arch == "i386" && hostArch == "x86_64") || (arch == "arm" && hostArch == "aarch64")
    }

    /// Whether KVM can run this target's guests on this machine (``runsUnderKVM(hostArch:kvmUsable:)``).
    package var runsUnderKVMHere: Bool {
        runsUnderKVM(hostArch: QEMUBinary.hostArch, kvmUsable: QEMUBinary.kvmUsable)
    }

    /// The accelerators a probe of this target uses by default here: KVM when it can run the target, and TCG.
    package var defaultAccelerators: [String] { runsUnderKVMHere ? ["kvm", "tcg"] : ["tcg"] }

    /// The target's name for messages (`s390x`, or `unknown target`).
    package var label: String { arch ?? "unknown target" }
}
