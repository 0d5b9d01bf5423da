import Logging
import QMP

/// Where QEMU's CPU-model questions (comparison, baseline) are asked: a QEMU started for the purpose, or a
/// running monitor. A started QEMU is always stopped before ``run(_:)`` returns or throws.
public struct ModelQuerySession: Sendable {
    /// Where to ask.
    public enum Source: Sendable {
        /// Start `binary` (nil: `qemu-system-s390x` on `PATH`, the one target that implements comparison and
        /// baseline) as a probing QEMU (`-machine none`, paused) with `accelerator` (nil: KVM when the binary's
        /// target is this machine's and `/dev/kvm` is usable, else TCG).
        case launch(binary: String?, accelerator: String?)
        /// Connect to a running monitor.
        case monitor(QMPEndpoint)
    }

    /// Where to ask.
    public var source: Source
    /// Per-command timeout.
    public var timeout: Duration = .seconds(30)
    /// Where to log.
    public var logger = Logger(label: "qmp-probe")
    /// Record the session to this path (JSON Lines, as `probe --record`), when set.
    public var recordPath: String?

    /// A session asking `source`.
    public init(source: Source) { self.source = source }

    /// The default binary for CPU-model comparisons: `qemu-system-s390x` on `PATH`.
    /// - Throws: ``ProberError/qemuNotFound(_:)`` with how to install it.
    public static func defaultBinary() throws -> String { try QEMUBinary.locate(arch: "s390x") }

    /// Connects (starting QEMU when asked), runs `body` with the negotiated client, and always stops what it started.
    /// - Throws: what `body` throws; ``ProberError`` when QEMU cannot be found, started or reached;
    ///   `QMPError.invalidState` when the recording cannot be written.
    public func run<R: Sendable>(_ body: @Sendable (QMPClient) async throws -> R) async throws -> R {
        var configuration = QMPClient.Configuration()
        configuration.commandTimeout = timeout
        configuration.connectTimeout = min(timeout, .seconds(30))
        configuration.logger = logger
        switch source {
        case .monitor(let endpoint):
            let recorder = try recordPath.map { try SessionRecorder(path: $0, header: SessionHeader.forThisHost()) }
            configuration.recorder = recorder
            let client = QMPClient(configuration: configuration)
            do {
                try await client.connect(to: endpoint)
            } catch let error as QMPError {
                try? recorder?.finish()
                throw ProberError.qmp(error)
            }
            do {
                let result = try await body(client)
                await client.close()
                try recorder?.finish()
                return result
            } catch {
                await client.close()
                try? recorder?.finish()
                throw error
            }
        case .launch(let explicit, let requested):
            let binary = try explicit.map { try QEMUBinary.locate(explicit: $0) } ?? Self.defaultBinary()
            let target = QEMUInstance.target(ofBinary: binary)
            let accelerator = requested ?? (target.runsUnderKVMHere ? "kvm" : "tcg")
            let arguments = QEMUInstance.probeArguments(accelerator: accelerator, target: target)
            let recorder = try recordPath.map {
                try SessionRecorder(path: $0, header: SessionHeader.forThisHost(arch: target.arch, accelerator: accelerator,
                                                                      binary: binary, arguments: arguments))
            }
            configuration.recorder = recorder
            let instance: QEMUInstance
            do {
                instance = try await QEMUInstance.start(binary: binary, accelerator: accelerator, arguments: arguments,
                                                        configuration: configuration)
            } catch {
                try? recorder?.finish()
                throw error
            }
            do {
                let result = try await body(instance.client)
                await instance.shutdown()
                try recorder?.finish()
                return result
            } catch {
                await instance.shutdown()
                try? recorder?.finish()
                throw error
            }
        }
    }
}
