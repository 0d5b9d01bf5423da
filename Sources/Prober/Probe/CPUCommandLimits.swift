import QMP

/// Which targets implement QEMU's CPU-model commands, since which QEMU version, and the notes that name a target's
/// real limit when a command gives no answer (from QEMU's `qapi/machine-target.json` and its history).
///
/// Until QEMU 10.0 a command exists only in the binaries of the targets that implement it (`CommandNotFound`
/// elsewhere); from 10.1 every binary has every CPU command, and a target that does not implement one answers it
/// with an error ("CPU model expansion is not supported on this target").
package enum CPUCommandLimits {
    /// `query-cpu-definitions`: the first QEMU version that has it, per target (absent: never, before 10.1's stubs).
    static let definitionsSince: [String: (Int, Int)] = [
        "x86_64": (1, 2), "i386": (1, 2), "s390x": (1, 2), "aarch64": (1, 2), "arm": (1, 2), "ppc64": (1, 2),
        "ppc": (1, 2), "mips": (1, 2), "mipsel": (1, 2), "mips64": (1, 2), "mips64el": (1, 2),
        "loongarch64": (7, 1), "riscv64": (8, 0), "riscv32": (8, 0),
    ]
    /// `query-cpu-model-expansion`: the first QEMU version that has it, per target.
    static let expansionSince: [String: (Int, Int)] = [
        "s390x": (2, 8), "x86_64": (2, 9), "i386": (2, 9), "aarch64": (4, 2), "arm": (4, 2),
        "riscv64": (8, 2), "riscv32": (8, 2), "loongarch64": (8, 2),
    ]

    /// Whether QEMU has every CPU command on every target (unimplemented ones answer with an error): 10.1 and later.
    package static func commandsOnEveryTarget(_ version: QEMUVersion) -> Bool { version.isAtLeast(10, 1) }

    /// Whether this QEMU implements `query-cpu-model-expansion` for `arch`: false only when the target is known and
    /// this version does not have it there (unknown targets are tried).
    package static func implementsExpansion(arch: String?, version: QEMUVersion) -> Bool {
        guard let arch, QEMUTarget(arch: arch).label != "unknown target" else { return true }
        guard let since = expansionSince[arch] else { return !knownTargets.contains(arch) }
        return version.isAtLeast(since.0, since.1)
    }

    /// The targets this table knows (every QEMU system target with CPU models worth probing, and the others it
    /// names as never implementing the commands).
    static let knownTargets: Set<String> = Set(definitionsSince.keys).union(expansionSince.keys)
        .union(["sparc", "sparc64", "alpha", "hppa", "m68k", "microblaze", "microblazeel", "or1k", "sh4", "sh4eb",
                "tricore", "xtensa", "xtensaeb", "avr", "rx", "cris", "nios2"])

    /// Where a command came in for `arch`: "(QEMU has it on riscv64 from 8.0)", or that it does not implement it.
    static func history(_ table: [String: (Int, Int)], arch: String, command: String) -> String {
        if let since = table[arch] { return "QEMU has it on \(arch) from \(since.0).\(since.1)" }
        // Targets named by family (x86, arm, ppc, mips, riscv), once each.
        let targets = Set(table.keys.map { $0.replacingOccurrences(of: "64", with: "").replacingOccurrences(of: "32", with: "")
            .replacingOccurrences(of: "el", with: "").replacingOccurrences(of: "aarch", with: "arm")
            .replacingOccurrences(of: "x86_", with: "x86").replacingOccurrences(of: "i386", with: "x86") })
        return "QEMU implements \(command) only for \(targets.sorted().joined(separator: ", "))"
    }

    /// What libvirt does with a QEMU that lists no CPU models.
    static let libvirtWithoutModels = "libvirt lists no CPU models for it either: it offers no custom CPU model and no host-model, only host-passthrough (with a hardware accelerator on a host of this architecture) and maximum"

    /// The note when `query-cpu-definitions` gave no list on `arch`: `error` is QEMU's refusal (nil when the
    /// command is not there at all: not in its commands, or `CommandNotFound`).
    package static func definitionsNote(arch: String?, version: QEMUVersion, error: QMPError?) -> String {
        let target = arch ?? "this target"
        let history = arch.map { " (" + self.history(definitionsSince, arch: $0, command: "query-cpu-definitions") + ")" } ?? ""
        if let error, case .commandFailed(let reason) = error, reason.errorClass != "CommandNotFound" {
            let stub = commandsOnEveryTarget(version)
                ? ": from QEMU 10.1 the command exists on every target, and \(target) does not implement it" : ""
            return "QEMU \(version) answers query-cpu-definitions on \(target) with an error (\(reason.errorClass): \(reason.errorDescription))\(stub)\(history): the CPU models cannot be listed; \(libvirtWithoutModels)"
        }
        return "QEMU \(version) has no query-cpu-definitions for \(target)\(history): the CPU models cannot be listed; \(libvirtWithoutModels)"
    }

    /// The note when this QEMU cannot expand CPU models on `arch`: `commandPresent` when QEMU has
    /// `query-cpu-model-expansion` but does not implement it there (10.1 and later), else it has no such command.
    package static func expansionNote(arch: String?, version: QEMUVersion, commandPresent: Bool) -> String {
        let target = arch ?? "this target"
        let history = arch.map { self.history(expansionSince, arch: $0, command: "query-cpu-model-expansion") } ?? "unknown target"
        let presence = commandPresent && commandsOnEveryTarget(version)
            ? "QEMU \(version) does not implement query-cpu-model-expansion on \(target) (from 10.1 the command exists on every target and answers with an error where it is not implemented)"
            : "QEMU \(version) has no query-cpu-model-expansion for \(target)"
        return "\(presence) (\(history)): the host model and the features of each model cannot be determined before a guest starts"
    }
}
