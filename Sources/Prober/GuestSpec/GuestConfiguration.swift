/// One guest as QEMU realizes its CPU: the `-cpu` string, the machine type, the topology and the accelerator.
/// Two QEMUs given the same configuration should realize the same CPU; ``GuestABIReport`` says where they do not.
package struct GuestConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// The `-cpu` string (`Skylake-Client-noTSX-IBRS`, `EPYC,+x2apic,-svm`).
    package var cpu: String
    /// The machine type (nil: QEMU's default).
    package var machine: String?
    /// The `-smp` topology (nil: QEMU's default, one vCPU).
    package var topology: SMPTopology?
    /// The accelerator (`kvm`, `tcg`).
    package var accelerator: String

    /// A configuration from its parts.
    package init(cpu: String, machine: String?, topology: SMPTopology?, accelerator: String) {
        self.cpu = cpu
        self.machine = machine
        self.topology = topology
        self.accelerator = accelerator
    }

    /// The arguments that start this guest paused, with no devices, disks or network.
    package var qemuArguments: [String] {
        var arguments = ["-no-user-config", "-nodefaults", "-display", "none", "-S", "-accel", accelerator]
        if let machine { arguments += ["-machine", machine] }
        if let topology { arguments += ["-smp", topology.description] }
        return arguments + ["-cpu", cpu]
    }

    /// The configuration a recorded guest was started with, read back from its arguments (``qemuArguments``);
    /// nil when they start no guest CPU (a probing QEMU with `-machine none`, or no `-cpu`).
    /// - Throws: ``ProberError/invalidInput(_:)`` when its `-smp` is malformed.
    package init?(arguments: [String]) throws {
        func value(_ option: String) -> String? {
            arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        guard let cpu = value("-cpu"), value("-machine") != "none" else { return nil }
        self.cpu = cpu
        machine = value("-machine")
        topology = try value("-smp").map(SMPTopology.init(parsing:))
        accelerator = value("-accel") ?? "tcg"
    }

    /// The model part of the `-cpu` string.
    package var model: String { String(cpu.prefix { $0 != "," }) }

    /// `CPU, machine MACHINE, smp TOPOLOGY, ACCEL`.
    package var description: String {
        "\(cpu), machine \(machine ?? "(QEMU's default)"), smp \(topology?.description ?? "1"), \(accelerator)"
    }
}
