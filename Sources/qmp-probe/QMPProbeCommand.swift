import ArgumentParser
import Prober

/// The `qmp-probe` command line: a QMP client and CPU-expansion prober for QEMU.
@main
struct QMPProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qmp-probe",
        abstract: "A QMP client and CPU-expansion prober for QEMU.",
        subcommands: [ProbeCommand.self, CPUCommand.self, CompareCommand.self, BaselineCommand.self, ExecCommand.self,
                      ConvertCommand.self, QEMUCompareCommand.self, QEMUBaselineCommand.self],
        defaultSubcommand: nil
    )

    static func main() async {
        SignalCleanup.install()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            SignalCleanup.yieldToPendingSignal()
        } catch {
            SignalCleanup.yieldToPendingSignal()
            exit(withError: error)
        }
    }
}
