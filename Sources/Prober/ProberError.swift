import Foundation
import QMP

/// Errors of the prober and its commands, each with a message for the user.
public enum ProberError: Error, Sendable, CustomStringConvertible {
    /// No QEMU binary could be found.
    case qemuNotFound(String)
    /// QEMU could not be started, or exited before its monitor answered (with QEMU's stderr).
    case qemuFailedToStart(binary: String, detail: String, stderr: String)
    /// Something about this machine prevents the operation (directories, permissions).
    case environment(String)
    /// A QMP error while probing.
    case qmp(QMPError)
    /// Bad input from the user (an unknown model, a malformed file).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .qemuNotFound(let message): return message
        case .qemuFailedToStart(let binary, let detail, let stderr):
            let trimmed = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "QEMU (\(binary)) \(detail)" + (trimmed.isEmpty ? "" : "; QEMU said:\n\(trimmed)")
        case .environment(let message): return message
        case .qmp(let error): return error.description
        case .invalidInput(let message): return message
        }
    }
}
