import QMP

/// `qmp-probe baseline`: over a fleet of hosts, per accelerator, the CPU models usable on every host, for each
/// model the hosts that block it and why, and the largest feature set every host model shares, as a `-cpu` string
/// and as libvirt XML.
public struct BaselineReport: Sendable {
    /// The schema identifier written in the JSON.
    public static let schemaID = "qmp-probe/baseline-report/1"

    /// One host of the fleet.
    public struct Host: Sendable {
        /// Its label.
        public var label: String
        /// The files it was read from.
        public var paths: [String]
        /// Its QEMU's version.
        public var version: QEMUVersion
        /// Its target architecture.
        public var arch: String?
    }

    /// Hosts that block a model the same way.
    public struct Blocking: Sendable, Equatable {
        /// The hosts (indexes into ``BaselineReport/hosts``), ascending.
        public var hosts: [Int]
        /// The host's QEMU has no model of that name.
        public var missing: Bool
        /// The features the host cannot give (canonical, sorted); empty when missing or when QEMU did not say.
        public var blockers: [String]
        /// QEMU did not report whether the model is usable.
        public var unknown: Bool

        /// A group from its parts.
        public init(hosts: [Int], missing: Bool, blockers: [String], unknown: Bool) {
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
        public var aliasOf: String?
        /// How many hosts can run it.
        public var usableCount: Int
        /// The hosts that cannot, grouped by reason, most hosts first.
        public var blockedBy: [Blocking]
        /// Whether every host can run it.
        public var usableEverywhere: Bool { blockedBy.isEmpty }
    }

    /// The baseline CPU of one accelerator.
    public struct BaselineCPU: Sendable {
        /// The base model: usable on every host, with the most shared features.
        public var model: String
        /// Shared features the model does not turn on everywhere: switched on.
        public var plus: [String]
        /// Features the model turns on somewhere that not every host model has: switched off.
        public var minus: [String]
        /// Whether the model's own features were known (else `plus` lists every shared feature).
        public var modelFeaturesKnown: Bool

        /// The `-cpu` string: `MODEL,+feat...,-feat...`.
        public var cpuString: String {
            ([model] + plus.map { "+" + $0 } + minus.map { "-" + $0 }).joined(separator: ",")
        }

        /// libvirt's `<cpu mode='custom' match='exact'>` with `<model fallback='forbid'>`, `require`d and `disable`d
        /// features in libvirt's spelling; features libvirt does not model (KVM paravirtual ones) are named in a comment.
        public var libvirtXML: String {
            var lines = ["<cpu mode='custom' match='exact'>", "  <model fallback='forbid'>\(model)</model>"]
            var skipped: [String] = []
            for (features, policy) in [(plus, "require"), (minus, "disable")] {
                for feature in features {
                    guard let name = LibvirtFeatureNames.libvirtName(forQEMU: feature) else {
                        skipped.append((policy == "require" ? "+" : "-") + feature)
                        continue
                    }
                    lines.append("  <feature policy='\(policy)' name='\(name)'/>")
                }
            }
            if !skipped.isEmpty {
                lines.append("  <!-- KVM paravirtual features, not CPU features to libvirt (left out): \(skipped.joined(separator: " ")) -->")
            }
            lines.append("</cpu>")
            return lines.joined(separator: "\n")
        }
    }

    /// The fleet baseline of one accelerator.
    public struct Accelerator: Sendable {
        /// `kvm`, `tcg`.
        public var name: String
        /// Every model any host lists (first host's order, then new names as met), or those asked for.
        public var models: [ModelRow]
        /// The features every host model has (migratable, canonical, sorted).
        public var shared: [String]
        /// The baseline CPU, when a model is usable on every host.
        public var baseline: BaselineCPU?
        /// What limits the answer.
        public var notes: [String]
    }

    /// The hosts, in argument order.
    public var hosts: [Host]
    /// The models asked about (`--model`), nil for all.
    public var askedModels: [String]?
    /// Per accelerator.
    public var accelerators: [Accelerator]

    /// Success: every asked model is usable on every host, or (none asked) each accelerator has a baseline model.
    public var satisfied: Bool {
        if askedModels != nil { return accelerators.allSatisfy { $0.models.allSatisfy(\.usableEverywhere) } }
        return accelerators.allSatisfy { $0.baseline != nil }
    }
}
