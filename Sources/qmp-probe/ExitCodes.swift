import ArgumentParser
import Foundation
import Prober
import QMP

/// A command's own failure with a message for the user (exit status 2), for what is not already a typed error of the
/// library (`ProberError`, `QMPError`, ...).
struct CommandFailure: Error, CustomStringConvertible {
    /// The message, without the program name.
    var description: String
    /// A failure saying `message`.
    init(_ message: String) { description = message }
}

/// Exit statuses shared by the subcommands: 0 success, 1 a negative finding, 2 an error; and the one place that maps
/// a command's errors to them (``failure(_:)``, used by `QMPProbeCommand.main`). Commands throw; they never print
/// their own errors.
enum ProbeExit {
    /// Something failed (bad input, QEMU refused, connection lost).
    static let error: Int32 = 2
    /// A negative finding that is the command's answer, not an error (a platform that cannot express the CPU).
    static let finding: Int32 = 1

    /// The message (for stderr, after `qmp-probe: `) and the exit status of `error`, or nil when it is not a command's
    /// failure (a command line the parser rejects, `--help`, an `ExitCode` thrown for a finding).
    static func failure(_ error: any Error) -> (message: String, status: Int32)? {
        switch error {
        case let failure as CommandFailure: return (failure.description, Self.error)
        case let failure as ProberError: return (failure.description, Self.error)
        case let failure as QMPError: return (failure.description, Self.error)
        case let failure as QEMUModelQueryError: return (failure.description, Self.error)
        case let failure as RecordingError: return ("bad recording: \(failure)", Self.error)
        case let failure as PlatformFormatError: return (failure.description, Self.finding)
        default: return nil
        }
    }
}
