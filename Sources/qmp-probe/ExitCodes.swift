import ArgumentParser
import Foundation
import QMP

/// Exit statuses shared by the subcommands: 0 success, 1 a negative finding, 2 an error.
enum ProbeExit {
    /// Something failed (bad input, QEMU refused, connection lost).
    static let error = ExitCode(2)

    /// Prints `message` on stderr prefixed with the program name and returns the error exit code.
    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("qmp-probe: \(message)\n".utf8))
        return error
    }
}
