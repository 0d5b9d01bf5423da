import Logging
import QMP

/// Where QEMU's CPU-model questions (comparison, baseline) are asked: a QEMU started for the purpose, a running
/// monitor, or a recording of such a session. A started QEMU is always stopped before ``run(_:)`` returns or throws.
package struct ModelQuerySession: Sendable {
    /// Where to ask.
    package enum Source: Sendable {
        /// Start `binary` (nil: `qemu-system-s390x` on `PATH`, the one target that implements comparison and
        /// baseline) as a probing QEMU (`-machine none`, paused) with `accelerator` (nil: KVM when the binary's
        /// target is this machine's and `/dev/kvm` is usable, else TCG).
        case launch(binary: String?, accelerator: String?)
        /// Connect to a running monitor.
        case monitor(QMPEndpoint)
        /// Replay a recording (its first session) in `mode`.
        case replay(path: String, mode: ReplayTransport.Mode)
    }

    /// Where to ask.
    package var source: Source
    /// Per-command timeout.
    package var timeout: Duration = .seconds(30)
    /// Where to log.
    package var logger = Logger(label: "qmp-probe")
    /// Record the session to this path (JSON Lines, as `probe --record`), when set.
    package var recordPath: String?

    /// A session asking `source`.
    package init(source: Source) { self.source = source }

    /// The default binary for CPU-model comparisons: `qemu-system-s390x` on `PATH`.
    /// - Throws: ``ProberError/qemuNotFound(_:)`` with how to install it.
    package static func defaultBinary() throws -> String { try QEMUBinary.locate(arch: "s390x") }

    /// Connects (starting QEMU when asked), runs `body` with the negotiated client, and always stops what it started.
    /// - Throws: what `body` throws; ``ProberError`` when QEMU cannot be found, started or reached, or the recording to
    ///   replay cannot be read; `QMPError.invalidState` when the recording cannot be written.
    package func run<R: Sendable>(_ body: @Sendable (QMPClient) async throws -> R) async throws -> R {
        var session: QEMUSession
        switch source {
        case .monitor(let endpoint):
            session = QEMUSession(.monitor(endpoint))
        case .replay(let path, let mode):
            guard let recorded = try QEMUSession.recordedSessions(path).first else {
                throw ProberError.invalidInput("\(path): no session")
            }
            session = QEMUSession(.replay(recorded, mode: mode))
        case .launch(let explicit, let requested):
            let binary = try explicit.map { try QEMUBinary.locate(explicit: $0) } ?? Self.defaultBinary()
            let target = QEMUInstance.target(ofBinary: binary)
            let accelerator = requested ?? (target.runsUnderKVMHere ? "kvm" : "tcg")
            session = QEMUSession(.launch(binary: binary, accelerator: accelerator,
                                          arguments: QEMUInstance.probeArguments(accelerator: accelerator, target: target)))
        }
        session.timeout = timeout
        session.logger = logger
        session.recordPath = recordPath
        return try await session.run(body)
    }
}
