import QMP

/// Why QEMU gave no comparison or baseline of two CPU models.
package enum QEMUModelQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// This QEMU has no such command (QEMU implements comparison and baseline for s390x only); `target` is the
    /// target QEMU reported, when it did.
    case unsupported(command: String, target: String?)
    /// QEMU refused the command (an unknown model, a bad property, `host` without KVM, no common model):
    /// QEMU's error class and description.
    case refused(command: String, errorClass: String, description: String)
    /// QEMU's reply does not have the shape its schema gives.
    case malformedReply(command: String, reply: String)

    /// The error in plain words, with QEMU's own message when it gave one.
    package var description: String {
        switch self {
        case .unsupported(let command, let target):
            let which = target.map { "QEMU for \($0)" } ?? "this QEMU"
            return "\(which) has no \(command): QEMU implements it for s390x only (e.g. --qemu qemu-system-s390x)"
        case .refused(let command, let errorClass, let description):
            return "QEMU refused \(command): \(errorClass): \(description)"
        case .malformedReply(let command, let reply):
            return "QEMU's reply to \(command) is not what its schema says: \(reply.prefix(300))"
        }
    }

    /// Runs `command` with `arguments`; QEMU's refusal becomes ``unsupported(command:target:)`` (for
    /// `CommandNotFound`, or from QEMU 10.1 an error on a target without comparison and baseline, asking `query-target`
    /// which target this is) or ``refused(command:errorClass:description:)``;
    /// any other failure (connection, timeout, a command missing from a replay) is ``ProberError/qmp(_:)``.
    static func execute(_ client: QMPClient, _ command: String, _ arguments: JSONObject) async throws -> JSON {
        do {
            return try await client.execute(command, arguments: arguments)
        } catch let error as QMPError {
            guard case .commandFailed(let failure) = error else { throw ProberError.qmp(error) }
            if failure.errorClass == "CommandNotFound" {
                let target = try? await client.execute("query-target")
                throw QEMUModelQueryError.unsupported(command: command, target: target?["arch"]?.stringValue)
            }
            // From QEMU 10.1 the command exists on every target, and one that does not implement it answers with an
            // error: unsupported too, when the target is known not to have it.
            if failure.errorClass == "GenericError", let arch = (try? await client.execute("query-target"))?["arch"]?.stringValue,
               !QEMUTarget(arch: arch).hasModelComparison {
                throw QEMUModelQueryError.unsupported(command: command, target: arch)
            }
            throw QEMUModelQueryError.refused(command: command, errorClass: failure.errorClass,
                                              description: failure.errorDescription)
        }
    }
}
