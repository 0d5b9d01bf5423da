import Foundation
import Logging

/// Logging set-up for the command line: warnings on stderr, the wire traffic with `--trace`.
enum CLILogging {
    /// A logger writing to stderr at warning level, or trace level when `trace` is set.
    static func logger(trace: Bool) -> Logger {
        var logger = Logger(label: "qmp-probe") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = trace ? .trace : .warning
        return logger
    }
}
