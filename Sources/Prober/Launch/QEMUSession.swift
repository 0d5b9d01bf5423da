import Logging
import QMP

/// One QMP session with QEMU, however it is reached: a QEMU started here (``Endpoint/launch(binary:accelerator:arguments:)``),
/// a running monitor, or a recorded session replayed. The one place that builds the client's configuration, records,
/// starts and stops QEMU, closes the client, and turns a `QMPError` into a ``ProberError``: the guest CPU check, the
/// guest realizations, QEMU's model queries and the probe's monitor and replay paths all open their sessions here.
package struct QEMUSession: Sendable {
    /// How QEMU is reached.
    package enum Endpoint: Sendable {
        /// Start `binary` with `arguments` (e.g. ``QEMUInstance/probeArguments(accelerator:machine:extra:)`` or a
        /// guest's ``GuestConfiguration/qemuArguments``); it is always stopped when the session ends.
        case launch(binary: String, accelerator: String, arguments: [String])
        /// A running monitor.
        case monitor(QMPEndpoint)
        /// A recorded session, replayed.
        case replay(ReplaySession, mode: ReplayTransport.Mode)
    }

    /// How QEMU is reached.
    package var endpoint: Endpoint
    /// Per-command timeout (the connection's is at most 30 s of it).
    package var timeout: Duration = .seconds(60)
    /// Record the session to this path, with ``header`` (default: this host's, with the launch's arch, accelerator,
    /// binary and arguments).
    package var recordPath: String?
    /// The recording's header, when ``recordPath`` is set.
    package var header: SessionHeader?
    /// Where to log.
    package var logger = Logger(label: "qmp-probe")

    /// A session reaching QEMU through `endpoint`.
    package init(_ endpoint: Endpoint) { self.endpoint = endpoint }

    /// Connects (starting QEMU when asked), runs `body` with the negotiated client, then closes the client, stops what
    /// it started and finishes the recording, whether `body` returned or threw.
    /// - Throws: ``ProberError/qemuFailedToStart(binary:detail:stderr:)`` with QEMU's stderr when a launched QEMU exits
    ///   or never answers, ``ProberError/qmp(_:)`` for any `QMPError` (of connecting, of `body`, of the recording),
    ///   and any other error of `body` as it is.
    package func run<R: Sendable>(_ body: (QMPClient) async throws -> R) async throws -> R {
        do {
            return try await open(body)
        } catch let error as QMPError {
            throw ProberError.qmp(error)
        }
    }

    private func open<R: Sendable>(_ body: (QMPClient) async throws -> R) async throws -> R {
        let recorder = try recordPath.map { try SessionRecorder(path: $0, header: header ?? defaultHeader) }
        let configuration = Self.clientConfiguration(timeout: timeout, logger: logger, recorder: recorder)
        switch endpoint {
        case .launch(let binary, let accelerator, let arguments):
            let instance: QEMUInstance
            do {
                instance = try await QEMUInstance.start(binary: binary, accelerator: accelerator, arguments: arguments,
                                                        configuration: configuration)
            } catch {
                try? recorder?.finish()
                throw error
            }
            return try await finishing(recorder, close: { await instance.shutdown() }) { try await body(instance.client) }
        case .monitor(let target):
            let client = QMPClient(configuration: configuration)
            return try await finishing(recorder, close: { await client.close() }) {
                try await client.connect(to: target)
                return try await body(client)
            }
        case .replay(let session, let mode):
            let client = QMPClient(configuration: configuration)
            return try await finishing(recorder, close: { await client.close() }) {
                try await client.connect(using: ReplayTransport(session: session, mode: mode))
                return try await body(client)
            }
        }
    }

    /// The sessions recorded in `path` (ours or libvirt's `.replies`), to replay; from `bytes` when the file was read
    /// already.
    /// - Throws: ``ProberError/invalidInput(_:)`` ("bad recording: ...", naming the file and line).
    package static func recordedSessions(_ path: String, bytes: [UInt8]? = nil) throws -> [ReplaySession] {
        do {
            return try bytes.map { try RecordingLoader.load(bytes: $0, source: path) } ?? RecordingLoader.load(path: path)
        } catch let error as RecordingError {
            throw ProberError.invalidInput("bad recording: \(error)")
        }
    }

    /// The client configuration of every session to QEMU: the per-command `timeout`, a connection timeout of at most
    /// 30 s of it, the logger and the recorder (also for the sessions the probe starts side by side itself).
    static func clientConfiguration(timeout: Duration, logger: Logger, recorder: SessionRecorder?) -> QMPClient.Configuration {
        var configuration = QMPClient.Configuration()
        configuration.commandTimeout = timeout
        configuration.connectTimeout = min(timeout, .seconds(30))
        configuration.logger = logger
        configuration.recorder = recorder
        return configuration
    }

    /// Runs `work`, then `close` and the recorder's finish, whatever happens (a finish error counts only after success).
    private func finishing<R: Sendable>(_ recorder: SessionRecorder?, close: () async -> Void,
                                        _ work: () async throws -> R) async throws -> R {
        do {
            let result = try await work()
            await close()
            try recorder?.finish()
            return result
        } catch {
            await close()
            try? recorder?.finish()
            throw error
        }
    }

    private var defaultHeader: SessionHeader {
        switch endpoint {
        case .launch(let binary, let accelerator, let arguments):
            return .forThisHost(arch: QEMUTarget.arch(ofBinary: binary), accelerator: accelerator, binary: binary, arguments: arguments)
        case .monitor, .replay:
            return .forThisHost()
        }
    }
}
