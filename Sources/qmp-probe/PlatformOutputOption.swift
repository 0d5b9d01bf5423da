import ArgumentParser
import Foundation
import Prober

/// `--format` on `baseline` and `probe`: the configuration alone on stdout; why there is none on stderr, exit status 1
/// (the platform cannot express the CPU, or it does not run everywhere), or 2 on bad input (mapped in ``ProbeExit``).
enum PlatformOutputOption {
    /// Prints the configuration of `format`.
    /// - Throws: `PlatformFormatError` when the platform cannot express the CPU (exit status 1, ``ProbeExit``),
    ///   ``ProberError`` on bad input.
    static func print(_ format: PlatformFormat, report: BaselineReport, hosts: [HostResult]) throws {
        let text = try PlatformOutput.render(format, report: report, hosts: hosts)
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
