import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe cpu`: the CPU a guest asks for and the CPU QEMU gives it, predicted and (with --live) verified.
struct CPUCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu",
        abstract: "Show the original and the updated guest CPU: what QEMU adds and drops, and why.",
        discussion: """
            SPEC is a QEMU -cpu string (Haswell-noTSX,+x2apic,-hle,vmx=off; host; max), or use --domain FILE for the \
            <cpu> of a libvirt domain XML. Without --live the result is predicted from expansions (a QEMU with \
            -machine none, no guest); --live starts a paused guest per --machine and reads the realized CPU. \
            Exit status: 0 when the guest gets exactly what was asked, 1 when features were added or dropped, \
            2 on error (including an unknown model or feature).
            """
    )

    @Argument(help: "The CPU as a QEMU -cpu string.")
    var spec: String?

    @Option(name: .long, help: "Read the <cpu> element of a libvirt domain XML instead of SPEC.")
    var domain: String?

    @Option(name: .long, help: "Machine type to verify on (repeat to compare machine types; default: QEMU's).")
    var machine: [String] = []

    @Option(name: .long, help: "Accelerator: kvm or tcg (default: kvm when /dev/kvm is usable).")
    var accel: String?

    @Option(name: .long, help: "The QEMU binary (default: qemu-system-<host arch> on PATH).")
    var qemu: String?

    @Option(name: .long, help: "Predict from a running monitor instead of starting QEMU.")
    var socket: String?

    @Option(name: .long, help: "Predict from a recording (ours or libvirt's .replies).")
    var replay: String?

    @Option(name: .long, help: "Record the prediction session (QEMU with -machine none) to FILE.")
    var record: String?

    @Flag(name: .long, help: "Start a paused guest and read the CPU QEMU realized.")
    var live = false

    @Flag(name: .long, help: "Print only the updated CPU as libvirt XML.")
    var xml = false

    @Flag(name: .long, help: "Print the JSON result (schemas/cpu-check.schema.json).")
    var json = false

    @Option(name: .long, help: "Seconds to wait for each QMP reply.")
    var timeout: Double = 60

    func validate() throws {
        if (spec == nil) == (domain == nil) { throw ValidationError("give SPEC or --domain FILE (one of them)") }
        if socket != nil && replay != nil { throw ValidationError("give at most one of --socket and --replay") }
        if record != nil && (socket != nil || replay != nil) { throw ValidationError("--record works when qmp-probe starts QEMU itself") }
        if live && (socket != nil || replay != nil) { throw ValidationError("--live starts QEMU itself: it cannot be used with --socket or --replay") }
        if let accel, !["kvm", "tcg"].contains(accel) { throw ValidationError("--accel must be kvm or tcg") }
        if xml && json { throw ValidationError("give at most one of --xml and --json") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let accelerator = accel ?? (QEMUBinary.kvmUsable ? "kvm" : "tcg")
        if accelerator == "kvm", socket == nil, replay == nil, !QEMUBinary.kvmUsable {
            throw ProbeExit.fail("--accel kvm: /dev/kvm is not usable here")
        }
        do {
            var cpuSpec: GuestCPUSpec
            var optional: Set<String> = []
            var check: String?
            if let domain {
                let cpu = try LibvirtDomainCPU(path: domain)
                cpuSpec = cpu.spec(accelerator: accelerator)
                optional = cpu.optionalFeatures
                check = cpu.check
            } else {
                cpuSpec = try GuestCPUSpec(parsing: spec!)
            }
            let source: GuestCPUChecker.Source
            if let socket { source = .monitor(.unix(path: socket)) }
            else if let replay { source = .replay(path: replay) }
            else { source = .launch(binary: qemu) }
            var checker = GuestCPUChecker(source: source, accelerator: accelerator)
            checker.live = live
            checker.machines = machine.isEmpty ? [nil] : machine.map { $0 }
            checker.optional = optional
            checker.check = check
            checker.recordPath = record
            checker.timeout = .milliseconds(Int64(timeout * 1000))
            let result = try await checker.run(spec: cpuSpec)
            if json { print(result.json.serialized()) }
            else if xml { print(result.updatedXML) }
            else { print(result.text, terminator: "") }
            if !result.exact { throw ExitCode(1) }
        } catch let error as ProberError {
            throw ProbeExit.fail(error.description)
        }
    }
}
