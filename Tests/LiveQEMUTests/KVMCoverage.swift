import Foundation

/// Whether the live tests' KVM cases may be missing. They run under KVM when `/dev/kvm` is usable and are dropped
/// otherwise ("kvm" leaves ``LiveQEMU/accelerators``, KVM-only tests are disabled); in CI (`CI` set, other than
/// `false` or `0`) KVM is expected, and a run without it fails unless it says it is TCG only (`QMP_PROBE_TCG_ONLY=1`).
enum KVMCoverage: Equatable {
    /// KVM is usable: its cases run.
    case present
    /// KVM is not usable and the run says so (`QMP_PROBE_TCG_ONLY=1`): TCG only, said on the output.
    case explicitlyTCGOnly
    /// KVM is not usable outside CI: TCG only, with a warning.
    case missingOutsideCI
    /// KVM is not usable in CI and the run did not say it is TCG only: a failure.
    case missingInCI

    /// The variable that declares a TCG-only run.
    static let tcgOnlyVariable = "QMP_PROBE_TCG_ONLY"

    /// The coverage of a run in `environment` on a machine where KVM is (or is not) usable.
    init(kvmUsable: Bool, environment: [String: String]) {
        if kvmUsable {
            self = .present
        } else if environment[Self.tcgOnlyVariable] == "1" {
            self = .explicitlyTCGOnly
        } else if let ci = environment["CI"], !["", "false", "0"].contains(ci.lowercased()) {
            self = .missingInCI
        } else {
            self = .missingOutsideCI
        }
    }

    /// What the run prints about it (nil when KVM is there).
    var message: String? {
        switch self {
        case .present:
            return nil
        case .explicitlyTCGOnly:
            return "note: \(Self.tcgOnlyVariable)=1: /dev/kvm is not usable and this run is TCG only; the live KVM cases do not run"
        case .missingOutsideCI:
            return "warning: /dev/kvm is not usable: the live KVM cases do not run (in CI this fails unless \(Self.tcgOnlyVariable)=1)"
        case .missingInCI:
            return "CI expects KVM but /dev/kvm is not usable here (no access, or no KVM): the live KVM cases would silently "
                + "not run. Give the CI user access to /dev/kvm, or set \(Self.tcgOnlyVariable)=1 for an explicit TCG-only run"
        }
    }
}
