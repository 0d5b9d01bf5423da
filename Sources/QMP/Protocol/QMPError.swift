/// Everything that can go wrong talking QMP, as one typed error.
public enum QMPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// QEMU answered the command with an error (QEMU's `class` and `desc`).
    case commandFailed(QMPCommandError)
    /// The connection ended while the command was pending.
    case interrupted(command: String, reason: String)
    /// No reply came within the call's timeout.
    case timedOut(command: String, seconds: Double)
    /// The server broke the protocol (bad JSON, an unexpected message, an id-less error reply, a limit exceeded).
    case protocolError(String)
    /// The connection could not be made.
    case connectFailed(String)
    /// The greeting or `qmp_capabilities` failed.
    case negotiationFailed(String)
    /// The client was used in a state that does not allow it (e.g. a command before `connect`).
    case invalidState(String)
    /// A replayed session has no recorded reply for this command (not a QEMU error).
    case notRecorded(command: String, detail: String)

    public var description: String {
        switch self {
        case .commandFailed(let error): return error.description
        case .interrupted(let command, let reason): return "'\(command)' was interrupted: \(reason)"
        case .timedOut(let command, let seconds): return "'\(command)' timed out after \(Self.format(seconds)) s without a reply"
        case .protocolError(let message): return "QMP protocol error: \(message)"
        case .connectFailed(let message): return "cannot connect: \(message)"
        case .negotiationFailed(let message): return "QMP negotiation failed: \(message)"
        case .invalidState(let message): return "invalid use of the QMP client: \(message)"
        case .notRecorded(let command, let detail): return "'\(command)' is not in the recording: \(detail)"
        }
    }

    /// The QEMU error class when this is a command error (e.g. `CommandNotFound`), else nil.
    public var errorClass: String? {
        if case .commandFailed(let error) = self { return error.errorClass }
        return nil
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

/// QEMU's error reply to a command (the `ExecuteError` of QEMU's Python client).
public struct QMPCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command that failed.
    public var command: String
    /// QEMU's error class: `GenericError`, `CommandNotFound`, `DeviceNotActive`, `DeviceNotFound`, `KVMMissingCap`.
    public var errorClass: String
    /// QEMU's human-readable description (not meant to be parsed).
    public var errorDescription: String

    /// An error from its parts.
    public init(command: String, errorClass: String, errorDescription: String) {
        self.command = command
        self.errorClass = errorClass
        self.errorDescription = errorDescription
    }

    public var description: String { "'\(command)' failed: \(errorClass): \(errorDescription)" }
}
