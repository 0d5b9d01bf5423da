import ArgumentParser
import Foundation
import Prober

/// `--format` on `baseline` and `probe`: the configuration alone on stdout; why there is none on stderr, exit status 1
/// (the platform cannot express the CPU, or it does not run everywhere), or 2 on bad input.
enum PlatformOutputOption {
    /// Prints the configuration of `format`.
    static func print(_ format: PlatformFormat, report: BaselineReport, hosts: [HostResult]) throws {
        do {
            let text = try PlatformOutput.render(format, report: report, hosts: hosts)
            FileHandle.standardOutput.write(Data(text.utf8))
        } catch let error as PlatformFormatError {
            FileHandle.standardError.write(Data("qmp-probe: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as ProberError {
            throw ProbeExit.fail(error.description)
        }
    }
}
