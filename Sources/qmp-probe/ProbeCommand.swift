import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe probe`: which CPU models are usable and which features QEMU adds or drops, per accelerator.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Probe QEMU: usable CPU models and the features QEMU adds or drops, per accelerator.",
        discussion: """
            With no options, starts the local qemu-system-<host arch> itself (-machine none, paused, no devices), \
            once with KVM when /dev/kvm is usable and once with TCG, side by side. Exit status: 0 on success, \
            2 on error (no QEMU, QEMU failed to start, monitor unreachable, bad recording).
            """
    )

    @Option(name: .long, help: "The QEMU binary (default: qemu-system-<host arch> on PATH).")
    var qemu: String?

    @Option(name: .long, help: "Accelerators to probe: kvm, tcg or all (default: all usable here).")
    var accel: String = "all"

    @Option(name: .long, help: "Probe a running monitor at this Unix socket instead of starting QEMU.")
    var socket: String?

    @Option(name: .long, help: "Probe a running monitor at HOST:PORT instead of starting QEMU.")
    var connect: String?

    @Option(name: .long, help: "Replay a recording (ours or libvirt's .replies) instead of talking to QEMU.")
    var replay: String?

    @Option(name: .long, help: "Replay mode: matching (by command) or strict (in recorded order).")
    var replayMode: String = "matching"

    @Option(name: .long, help: "Record the session(s) to FILE (FILE-kvm.EXT and FILE-tcg.EXT for two accelerators).")
    var record: String?

    @Option(name: .long, help: "Also compare added features against this recording or probe result (e.g. an older QEMU).")
    var against: String?

    @Option(name: .long, help: "Seconds to wait for the monitor's greeting and for each QMP reply (a stopped or hung QEMU fails after this).")
    var timeout: Double = 30

    @Flag(name: .long, help: "Print the JSON report (schemas/probe-report.schema.json) instead of the summary.")
    var json = false

    @Flag(name: .long, help: "List the enabled features of every model in the summary.")
    var verbose = false

    func validate() throws {
        let sources = [socket, connect, replay].compactMap { $0 }
        if sources.count > 1 { throw ValidationError("give at most one of --socket, --connect, --replay") }
        guard ["kvm", "tcg", "all"].contains(accel) else { throw ValidationError("--accel must be kvm, tcg or all") }
        guard ReplayTransport.Mode(rawValue: replayMode) != nil else { throw ValidationError("--replay-mode must be matching or strict") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let connect, QMPEndpoint.parseTCP(connect) == nil { throw ValidationError("--connect expects HOST:PORT") }
    }

    func run() async throws {
        let source: ProbeSource
        if let socket {
            source = .monitor(.unix(path: socket))
        } else if let connect {
            source = .monitor(QMPEndpoint.parseTCP(connect)!)
        } else if let replay {
            source = .replay(path: replay, mode: ReplayTransport.Mode(rawValue: replayMode)!)
        } else {
            let accelerators: [String]
            // KVM only runs the host's own target (qemu-system-s390x on an x86_64 host is TCG only).
            let target = QEMUInstance.target(ofBinary: qemu ?? "qemu-system-\(QEMUBinary.hostArch)")
            switch accel {
            case "all": accelerators = target.defaultAccelerators
            case "kvm":
                guard QEMUBinary.kvmUsable else { throw ProbeExit.fail("--accel kvm: /dev/kvm is not usable here") }
                guard target.runsUnderKVMHere else {
                    throw ProbeExit.fail("--accel kvm: KVM on this \(QEMUBinary.hostArch) host cannot run \(target.label) guests")
                }
                accelerators = ["kvm"]
            default: accelerators = [accel]
            }
            source = .launch(binary: qemu, accelerators: accelerators)
        }
        var runner = ProbeRunner(source: source)
        runner.recordPath = record
        runner.timeout = .milliseconds(Int64(timeout * 1000))
        runner.logger = CLILogging.logger(trace: false)
        let progress = ProgressLine()
        if progress.enabled { runner.progress = { accelerator, done, total in progress.update("\(accelerator): \(done)/\(total) expansions") } }
        do {
            var references: [String: (label: String, probe: AcceleratorProbe)] = [:]
            if let against {
                var other = ProbeRunner(source: .replay(path: against, mode: .matching))
                other.timeout = runner.timeout
                let (probes, _, _) = try await other.gather()
                for probe in probes {
                    references[probe.accelerator] = ("\(probe.accelerator) in QEMU \(probe.version) (\(against))", probe)
                }
            }
            let report = try await runner.run(against: references)
            progress.clear()
            if json {
                print(report.json.serialized())
            } else {
                print(TextReport.render(report, verbose: verbose), terminator: "")
            }
        } catch let error as ProberError {
            progress.clear()
            throw ProbeExit.fail(error.description)
        } catch let error as QMPError {
            progress.clear()
            throw ProbeExit.fail(error.description)
        }
    }
}
