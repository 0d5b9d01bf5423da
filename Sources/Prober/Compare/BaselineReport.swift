import QMP

/// `qmp-probe baseline`: over a fleet of hosts, per accelerator, the CPU models usable on every host, for each
/// model the hosts that block it and why, and the largest feature set every host model shares, as a `-cpu` string
/// and as libvirt XML.
public struct BaselineReport: Sendable {
    /// The schema identifier written in the JSON.
    package static let schemaID = "qmp-probe/baseline-report/1"

    /// One host of the fleet.
    package struct Host: Sendable {
        /// Its label.
        package var label: String
        /// The files it was read from.
        package var paths: [String]
        /// Its QEMU's version.
        package var version: QEMUVersion
        /// Its target architecture.
        package var arch: String?
    }

    /// Hosts that block a model the same way.
    package struct Blocking: Sendable, Equatable {
        /// The hosts (indexes into ``BaselineReport/hosts``), ascending.
        package var hosts: [Int]
        /// The host's QEMU has no model of that name.
        package var missing: Bool
        /// The features the host cannot give (canonical, sorted); empty when missing or when QEMU did not say.
        package var blockers: [String]
        /// QEMU did not report whether the model is usable.
        package var unknown: Bool

        /// A group from its parts.
        package init(hosts: [Int], missing: Bool, blockers: [String], unknown: Bool) {
            self.hosts = hosts
            self.missing = missing
            self.blockers = blockers
            self.unknown = unknown
        }
    }

    /// One model across the fleet.
    public struct ModelRow: Sendable {
        /// The model name.
        public var name: String
        /// The versioned model it resolves to (on the first host that has it).
        package var aliasOf: String?
        /// How many hosts can run it.
        package var usableCount: Int
        /// The hosts that cannot, grouped by reason, most hosts first.
        package var blockedBy: [Blocking]
        /// Whether every host can run it.
        public var usableEverywhere: Bool { blockedBy.isEmpty }
    }

    /// How the base model is chosen.
    public enum ModelRule: String, Sendable, CaseIterable {
        /// As libvirt's `hypervisor-cpu-baseline` (`src/cpu/cpu_x86.c`, `x86Decode`): a model of the hosts' vendor
        /// closest to the shared features, where switching features off is allowed (each disabled feature costs
        /// more than an added one). The default.
        case libvirt
        /// The model usable as it is on every host with the most shared features (the first rule of this tool).
        case usableAsIs = "usable-as-is"
    }

    /// Hosts on which a CPU does not run as given, grouped by identical reason.
    package struct RunBlock: Sendable, Equatable {
        /// The hosts (indexes into ``BaselineReport/hosts``), ascending.
        package var hosts: [Int]
        /// The host's QEMU has no model of that name.
        package var missingModel: Bool
        /// Features the CPU has that the host cannot give (canonical, sorted): QEMU would filter them, or refuse
        /// the guest with `enforce`.
        package var cannotGive: [String]
        /// Features switched off that the host's QEMU does not know (QEMU refuses an unknown property).
        package var unknown: [String]

        /// A group from its parts.
        package init(hosts: [Int], missingModel: Bool = false, cannotGive: [String] = [], unknown: [String] = []) {
            self.hosts = hosts
            self.missingModel = missingModel
            self.cannotGive = cannotGive
            self.unknown = unknown
        }
    }

    /// A CPU (base model plus switches) checked on every host.
    public struct BaselineCPU: Sendable {
        /// The base model.
        public var model: String
        /// Features switched on (canonical QEMU names, sorted).
        package var plus: [String]
        /// Features switched off (canonical QEMU names, sorted).
        package var minus: [String]
        /// Whether the model's own features were known (else `plus` lists every shared feature).
        package var modelFeaturesKnown: Bool
        /// How the model was chosen; nil for a CPU given by the operator (`--cpu`, `--domain`).
        package var rule: ModelRule? = nil
        /// The vendor QEMU's definition of the model sets (``CPUVendor/vendor(ofModel:)``), nil when it has none.
        package var modelVendor: String? = nil
        /// KVM paravirtual features every host model has that the model does not turn on (`kvm-pv-unhalt`, ...):
        /// not part of the CPU model on any platform (each sets them its own way), so neither switched nor printed
        /// by the platform formats.
        package var paravirtual: [String] = []
        /// The hosts on which the CPU does not run as given; empty when it runs on every host.
        package var blockedOn: [RunBlock] = []
        /// libvirt's cost of the choice (added features plus 2, 3, 4, ... per disabled one), nil for other rules.
        package var cost: Int? = nil

        /// A CPU from its parts.
        package init(model: String, plus: [String], minus: [String], modelFeaturesKnown: Bool) {
            self.model = model
            self.plus = plus
            self.minus = minus
            self.modelFeaturesKnown = modelFeaturesKnown
        }

        /// Whether the CPU runs on every host.
        package var runsEverywhere: Bool { blockedOn.isEmpty }

        /// The `-cpu` string: `MODEL,+feat...,-feat...`.
        public var cpuString: String {
            ([model] + plus.map { "+" + $0 } + minus.map { "-" + $0 }).joined(separator: ",")
        }

        /// libvirt's `<cpu mode='custom' match='exact'>` with `<model fallback='forbid'>`, `require`d and `disable`d
        /// features in libvirt's spelling; features libvirt does not model (KVM paravirtual ones) are named in a
        /// comment (``LibvirtCPUFormat`` refuses them instead).
        package var libvirtXML: String { LibvirtCPUFormat.xml(self, vendor: nil, refusing: false).text }
    }

    /// The fleet baseline of one accelerator.
    public struct Accelerator: Sendable {
        /// `kvm`, `tcg`.
        public var name: String
        /// Every model any host lists (first host's order, then new names as met), or those asked for.
        public var models: [ModelRow]
        /// The features every host model has (migratable, canonical, sorted).
        public var shared: [String]
        /// The baseline CPU, when a model fits.
        public var baseline: BaselineCPU?
        /// The hosts' vendor (QEMU's string, e.g. `AuthenticAMD`), nil when unknown or when the hosts differ.
        package var vendor: String? = nil
        /// How ``vendor`` was decided, in plain words.
        package var vendorBasis: String = ""
        /// The operator's CPU (`--cpu`, `--domain`) checked on every host, when given.
        package var checked: BaselineCPU? = nil
        /// What limits the answer.
        package var notes: [String]
    }

    /// The hosts, in argument order.
    package var hosts: [Host]
    /// The models asked about (`--model`), nil for all.
    package var askedModels: [String]?
    /// The target architecture every host shares.
    package var arch: String? { hosts.lazy.compactMap(\.arch).first }
    /// Per accelerator.
    public var accelerators: [Accelerator]

    /// Success: every asked model is usable on every host; else the operator's CPU runs on every host; else (none
    /// asked) each accelerator has a baseline CPU that runs on every host.
    package var satisfied: Bool {
        if askedModels != nil { return accelerators.allSatisfy { $0.models.allSatisfy(\.usableEverywhere) } }
        if accelerators.contains(where: { $0.checked != nil }) {
            return accelerators.allSatisfy { $0.checked?.runsEverywhere ?? true }
        }
        return accelerators.allSatisfy { $0.baseline?.runsEverywhere ?? false }
    }
}
