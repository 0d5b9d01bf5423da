/// The answer for one CPU model (or one `--cpu`/`--domain` spec): could a guest started on the source run on the
/// destination, and if not, which features block it and why.
public struct ModelVerdict: Sendable, Equatable {
    /// Why a feature blocks.
    public enum Reason: String, Sendable, Equatable, CaseIterable {
        /// The destination's QEMU does not know the feature.
        case unknownFeature = "dst-qemu-unknown"
        /// The destination host lacks it: in the destination's `unavailable-features` for the model.
        case unavailable = "dst-unavailable"
        /// The destination host lacks it: not in the destination's host model.
        case notInHostModel = "dst-not-in-host-model"
        /// The source host marks it non-migratable (`invtsc`): no guest with it migrates.
        case notMigratable = "src-not-migratable"

        /// A short phrase for text output.
        package var phrase: String {
            switch self {
            case .unknownFeature: return "DST's QEMU does not know"
            case .unavailable: return "DST's host lacks"
            case .notInHostModel: return "not in DST's host model"
            case .notMigratable: return "not migratable on SRC"
            }
        }
    }

    /// How the guest's features were known.
    package enum Basis: String, Sendable, Equatable {
        /// The source expanded the model: every guest feature was checked.
        case features
        /// The source did not expand the model (libvirt's recorded probes): checked by the destination's blockers.
        case model
    }

    /// One blocking feature.
    public struct Blocker: Sendable, Equatable {
        /// The feature (canonical name).
        public var feature: String
        /// Why it blocks.
        public var reason: Reason
        /// Whether the source's QEMU added it on its own (against its reference), not the model.
        package var addedBySource: Bool
    }

    /// The model name.
    public var model: String
    /// The full spec in `-cpu` syntax when it has switches, else nil.
    package var spec: String?
    /// How the guest's features were known.
    package var basis: Basis = .features
    /// The destination has no model of that name.
    package var modelMissing = false
    /// The destination's definition checked when it is not the named one: the versioned model the source resolved
    /// the name to (or `-v1` for a source without versions).
    package var destinationModel: String?
    /// The source's definition the guest was taken from when the destination has no such versioned model: `NAME-v1`,
    /// the legacy definition an old machine type runs (the destination's QEMU has no versions).
    package var sourceModel: String?
    /// Whether the model is usable on the destination as it stands (its own verdict, nil when unknown or missing).
    package var destinationUsable: Bool?
    /// Whether the model is usable on the source as it stands (nil when unknown).
    package var sourceUsable: Bool?
    /// The guest's features on the source; nil when unknown.
    package var guest: [String]?
    /// What the source filtered from the model (the guest runs without it on both sides).
    package var filtered: [String] = []
    /// Guest features the source's QEMU added on its own; nil when the source has no reference.
    package var added: [String]?
    /// The blocking features.
    public var blockers: [Blocker] = []

    /// A verdict with nothing found yet.
    package init(model: String, spec: String? = nil) {
        self.model = model
        self.spec = spec
    }

    /// Whether the guest could run on the destination.
    public var compatible: Bool { !modelMissing && blockers.isEmpty }
}
