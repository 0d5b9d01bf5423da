import QMP

/// What one QEMU session (one accelerator) said about CPUs: the raw material of every report.
public struct AcceleratorProbe: Sendable {
    /// How the host model was derived (libvirt's terms).
    public enum HostModelMethod: String, Sendable {
        /// One static expansion (x86 QEMU 3.1+, s390x).
        case staticExpansion = "static"
        /// A static expansion, then a full expansion of its result (older x86 QEMU, libvirt's "static-full").
        case staticFull = "static-full"
        /// One full expansion (targets without static expansion: aarch64).
        case fullExpansion = "full"
    }

    /// The host model: QEMU's expansion of `host` (KVM) or `max` (TCG).
    public struct HostModel: Sendable {
        /// The model expanded (`host`, `max`).
        public var name: String
        /// How it was expanded.
        public var method: HostModelMethod
        /// The expansion as it is (migratable features only, on x86).
        public var expansion: CPUModelExpansion
        /// The expansion with `migratable: false` (x86), marking features that cannot migrate; nil when not asked.
        public var nonMigratable: CPUModelExpansion?
        /// A full expansion of the host model (every property and spelling), when gathered.
        public var full: CPUModelExpansion?
    }

    /// The expansions gathered for one model.
    public struct ModelExpansions: Sendable {
        /// The static expansion (base plus every feature as true/false), when available.
        public var staticExpansion: CPUModelExpansion?
        /// The full expansion (every property), when available.
        public var fullExpansion: CPUModelExpansion?
    }

    /// The accelerator (`kvm`, `tcg`, ...).
    public var accelerator: String
    /// QEMU's version.
    public var version: QEMUVersion
    /// The target architecture, when known.
    public var arch: String?
    /// `query-kvm`'s answer (`present`, `enabled`), when that is what told the accelerator state.
    public var kvm: JSON?
    /// Which accelerator QEMU runs and has (`query-accelerators` from QEMU 10.2, else `query-kvm`), when it said.
    public var acceleratorState: AcceleratorState?
    /// Commands and fields this QEMU has.
    public var support = QEMUFeatureSupport()
    /// `query-cpu-definitions`, when QEMU answered it.
    public var definitions: [CPUDefinition]?
    /// The host model, when it could be expanded.
    public var hostModel: HostModel?
    /// Expansions per model name (aliases share their target's).
    public var expansions: [String: ModelExpansions] = [:]
    /// What could not be determined, in plain words.
    public var notes: [String] = []

    /// A probe with nothing gathered yet.
    public init(accelerator: String, version: QEMUVersion, arch: String?) {
        self.accelerator = accelerator
        self.version = version
        self.arch = arch
    }
}
