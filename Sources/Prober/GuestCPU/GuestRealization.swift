import QMP

/// Starts a guest paused and reads the CPU QEMU realized for it (``RealizedCPU``), or replays a recorded one:
/// the one place where a guest is realized, for the guest CPU check and the guest ABI comparison alike.
package enum GuestRealization {
    /// Starts `binary` with `guest` (``GuestConfiguration/qemuArguments``), reads the realized CPU and stops QEMU,
    /// whatever happens. With `recordPath`, the session is recorded there (its header keeps the arguments, so the
    /// recording can later stand for this guest: ``replay(path:)``).
    /// - Throws: ``ProberError/qemuFailedToStart(binary:detail:stderr:)`` with QEMU's own message when QEMU refuses
    ///   the guest (an unknown machine type, a topology it rejects), ``ProberError`` for other failures.
    package static func realize(binary: String, guest: GuestConfiguration, timeout: Duration,
                               recordPath: String? = nil) async throws -> RealizedCPU {
        var session = QEMUSession(.launch(binary: binary, accelerator: guest.accelerator, arguments: guest.qemuArguments))
        session.timeout = timeout
        session.recordPath = recordPath
        return try await session.run { client in try await RealizedCPU.read(client: client, guest: guest, binary: binary) }
    }

    /// Replays every guest session recorded in `path` (``realize(binary:guest:timeout:recordPath:)`` with a
    /// recording): the guest comes from the session's arguments, the CPU from its replies.
    /// - Throws: ``ProberError/invalidInput(_:)`` for a file that is not a recording of a started guest (a probing
    ///   session with `-machine none` is not), ``ProberError/qmp(_:)`` when the recording lacks a reply.
    package static func replay(path: String) async throws -> [RealizedCPU] {
        try await replay(try QEMUSession.recordedSessions(path), path: path)
    }

    /// Replays `sessions`, already loaded from `path` (which names them in errors).
    /// - Throws: as ``replay(path:)``.
    package static func replay(_ sessions: [ReplaySession], path: String) async throws -> [RealizedCPU] {
        var result: [RealizedCPU] = []
        for session in sessions {
            guard let arguments = session.header.arguments, let guest = try GuestConfiguration(arguments: arguments) else {
                throw ProberError.invalidInput("\(path): not the recording of a started guest (no -cpu, or -machine none): record one with 'qmp-probe cpu SPEC --live --record FILE'")
            }
            var cpu = try await QEMUSession(.replay(session, mode: .matching)).run { client in
                try await RealizedCPU.read(client: client, guest: guest, binary: session.header.binary)
            }
            if cpu.arch == nil { cpu.arch = session.header.arch }
            result.append(cpu)
        }
        return result
    }
}
