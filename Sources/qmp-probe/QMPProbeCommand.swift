import ArgumentParser
import Foundation
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
            // Every command's errors end here: the message on stderr and the exit status (ProbeExit.failure).
            if case let (message, status)? = ProbeExit.failure(error) {
                FileHandle.standardError.write(Data("qmp-probe: \(message)\n".utf8))
                Foundation.exit(status)
            }
            // A command line the parser rejects is an error like any other: exit status 2 (ArgumentParser's is 64).
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ProbeExit.error)
            }
            exit(withError: error)
        }
    }
}
