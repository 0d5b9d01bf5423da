import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe cpu`: the CPU a guest asks for and the CPU QEMU gives it, predicted and (with --live) verified; with
/// --to/--from, the same guest realized by two QEMUs (or a QEMU and a saved result) and every difference named.
struct CPUCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu",
        abstract: "Show the original and the updated guest CPU: what QEMU adds and drops, and why; or compare the guest's CPU across two QEMUs.",
        discussion: """
            SPEC is a QEMU -cpu string (Haswell-noTSX,+x2apic,-hle,vmx=off; host; max), or use --domain FILE for a \
            libvirt domain XML (its <cpu>, <vcpu>, <cpu><topology>, <os><type machine=...> and domain type). Without \
            --live the result is predicted from expansions (a QEMU with -machine none, no guest); --live starts a \
            paused guest per --machine and reads the realized CPU. Exit status: 0 when the guest gets exactly what \
            was asked, 1 when features were added or dropped, 2 on error (including an unknown model or feature).

            --to OTHER realizes the guest here (--qemu or the default) and on OTHER, a QEMU binary or a saved result \
            (the --json output of 'cpu --live', or its --record recording), side by side, and lists every feature \
            that differs with its cause. --from SAVED takes a saved result as the source and this QEMU as the \
            destination (a saved image restored after an upgrade). Exit status: 0 when the realized CPUs are \
            identical, 1 on any difference or a machine type the destination lacks, 2 on error.
            """
    )

    @Argument(help: "The CPU as a QEMU -cpu string (optional with a saved --to/--from result, which names it).")
    var spec: String?

    @Option(name: .long, help: "Read the guest from a libvirt domain XML instead of SPEC (<cpu>, <vcpu>, topology, machine type, domain type).")
    var domain: String?

    @Option(name: .long, help: "Machine type to verify on (repeat to compare machine types; default: QEMU's).")
    var machine: [String] = []

    @Option(name: .long, help: "The guest's vCPU topology in QEMU's -smp syntax: N[,sockets=..,dies=..,clusters=..,cores=..,threads=..,maxcpus=..].")
    var smp: String?

    @Option(name: .long, help: "Accelerator: kvm or tcg (default: the domain's type (kvm; qemu is tcg), else kvm when /dev/kvm is usable).")
    var accel: String?

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "Record the prediction session to FILE; with --to/--from, the local guest's session (one file per machine type).")
    var record: String?

    @Flag(name: .long, help: "Start a paused guest and read the CPU QEMU realized.")
    var live = false

    @Option(name: .long, help: "Compare with the same guest on OTHER: a QEMU binary, or a saved result (cpu --live --json, or its recording).")
    var to: String?

    @Option(name: .long, help: "Compare a saved result (the source) with the same guest on this QEMU (the destination).")
    var from: String?

    @Flag(name: .long, help: "Print only the updated CPU as libvirt XML (with --to/--from: the differences as XML).")
    var xml = false

    @Flag(name: .long, help: "Print the JSON result (schemas/cpu-check.schema.json; with --to/--from schemas/guest-abi.schema.json).")
    var json = false

    func validate() throws {
        if spec != nil && domain != nil { throw ValidationError("give SPEC or --domain FILE, not both") }
        if spec == nil && domain == nil && to == nil && from == nil { throw ValidationError("give SPEC or --domain FILE (one of them)") }
        // A running monitor or a recording predicts only: what starts QEMU itself cannot use them.
        let monitors: [SourceOptions.Name] = [.socket, .connect, .replay]
        if record != nil { try source.reject(monitors, by: "cpu --record", because: "it records a QEMU that qmp-probe starts itself") }
        if live { try source.reject(monitors, by: "cpu --live", because: "it starts QEMU itself (a paused guest per machine type)") }
        if to != nil || from != nil {
            try source.reject(monitors, by: "cpu --to/--from", because: "they realize the guest, starting QEMU itself")
        }
        if let accel, !["kvm", "tcg"].contains(accel) { throw ValidationError("--accel must be kvm or tcg") }
        if xml && json { throw ValidationError("give at most one of --xml and --json") }
    }

    func run() async throws {
        let topology = try smp.map(SMPTopology.init(parsing:))
        let guestDomain = try domain.map(LibvirtDomain.init(path:))
        if let domain, guestDomain?.cpu == nil { throw ProberError.invalidInput("\(domain): no <cpu> element") }
        // --accel wins over the domain's type, as --machine and --smp win over the domain's.
        let explicitAccelerator = accel ?? guestDomain?.accelerator
        if let explicitAccelerator, !["kvm", "tcg"].contains(explicitAccelerator) {
            throw ProberError.invalidInput("the domain's type '\(guestDomain?.type ?? "")' selects \(explicitAccelerator): only kvm and tcg guests are realized here")
        }
        let machines = machine.isEmpty ? (guestDomain?.machine.map { [$0] } ?? []) : machine
        let guestTopology = topology ?? guestDomain?.topology
        if to != nil || from != nil {
            try await compareGuests(accelerator: explicitAccelerator, machines: machines, topology: guestTopology,
                                    domain: guestDomain)
            return
        }
        let accelerator = explicitAccelerator ?? QEMUBinary.defaultAccelerator
        if accelerator == "kvm", !source.talksToRunningQEMUOrRecording, !QEMUBinary.kvmUsable {
            throw ProberError.invalidInput("--accel kvm: /dev/kvm is not usable here")
        }
        var cpuSpec: CPUSpec
        var optional: Set<String> = []
        var check: String?
        if let cpu = guestDomain?.cpu {
            cpuSpec = cpu.spec(accelerator: accelerator)
            optional = cpu.optionalFeatures
            check = cpu.check
        } else {
            cpuSpec = try CPUSpec(parsing: spec!)
        }
        let checkerSource: GuestCPUChecker.Source
        switch source.source {
        case .launch(let binary): checkerSource = .launch(binary: binary)
        case .monitor(let endpoint): checkerSource = .monitor(endpoint)
        case .replay(let path, let mode): checkerSource = .replay(path: path, mode: mode)
        }
        var checker = GuestCPUChecker(source: checkerSource, accelerator: accelerator)
        checker.live = live
        checker.machines = machines.isEmpty ? [nil] : machines.map { $0 }
        checker.topology = guestTopology
        checker.optional = optional
        checker.check = check
        checker.recordPath = record
        checker.timeout = source.timeoutDuration
        let result = try await checker.run(spec: cpuSpec)
        if json { print(result.json.serialized()) }
        else if xml { print(result.updatedXML) }
        else { print(result.text, terminator: "") }
        if !result.exact { throw ExitCode(1) }
    }

    /// `--to` / `--from`: the guest ABI across two QEMUs (or a QEMU and a saved result).
    private func compareGuests(accelerator: String?, machines: [String], topology: SMPTopology?,
                               domain: LibvirtDomain?) async throws {
        let sourceSide: GuestSide = try from.map { path in
            guard case .saved = try GuestSide.classify(path) else {
                throw ProberError.invalidInput("--from \(path): expected a saved result (cpu --live --json, or its recording), not a QEMU binary: use --qemu for the source's QEMU with --to")
            }
            return .saved(path: path)
        } ?? .live(binary: source.qemu)
        let destinationSide: GuestSide = try to.map(GuestSide.classify) ?? .live(binary: source.qemu)
        var checker = GuestABIChecker(source: sourceSide, destination: destinationSide)
        let cpuAccelerator = accelerator ?? QEMUBinary.defaultAccelerator
        checker.cpu = try domain?.cpu.map { $0.spec(accelerator: cpuAccelerator).commandLine } ?? spec.map { try CPUSpec(parsing: $0).commandLine }
        checker.machines = machines
        checker.topology = topology
        checker.accelerator = accelerator
        checker.timeout = source.timeoutDuration
        checker.recordPath = record
        if accelerator == "kvm", !QEMUBinary.kvmUsable, !(Self.isSaved(sourceSide) && Self.isSaved(destinationSide)) {
            throw ProberError.invalidInput("--accel kvm: /dev/kvm is not usable here")
        }
        let report = try await checker.run()
        if json { print(report.json.serialized()) }
        else if xml { print(report.xml) }
        else { print(report.text, terminator: "") }
        if !report.identical { throw ExitCode(1) }
    }

    private static func isSaved(_ side: GuestSide) -> Bool {
        if case .saved = side { return true }
        return false
    }
}
