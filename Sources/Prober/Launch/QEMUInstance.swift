import Foundation
import QMP

/// A QEMU started for probing (`-machine none -nodefaults -display none -S` by default), with a connected,
/// negotiated QMP client. ``shutdown()`` always leaves no process behind.
package final class QEMUInstance: Sendable {
    /// The running process.
    package let process: QEMUProcess
    /// The negotiated client.
    package let client: QMPClient
    /// The accelerator asked for (`kvm`, `tcg`, ...).
    package let accelerator: String

    private init(process: QEMUProcess, client: QMPClient, accelerator: String) {
        self.process = process
        self.client = client
        self.accelerator = accelerator
    }

    /// The arguments for a probing QEMU: no machine, no devices, no display, paused.
    package static func probeArguments(accelerator: String, machine: String = "none", extra: [String] = []) -> [String] {
        ["-no-user-config", "-nodefaults", "-display", "none", "-S", "-machine", machine, "-accel", accelerator] + extra
    }

    /// The arguments for probing `target` with `accelerator`: ``probeArguments(accelerator:machine:extra:)`` with the
    /// target's probing machine (``QEMUTarget/probeMachine``).
    package static func probeArguments(accelerator: String, target: QEMUTarget, extra: [String] = []) -> [String] {
        probeArguments(accelerator: accelerator, machine: target.probeMachine, extra: extra)
    }

    /// The target a probing run of `binary` is for: from its name (`qemu-system-ARCH`), else this machine's arch.
    package static func target(ofBinary binary: String) -> QEMUTarget {
        QEMUTarget(arch: QEMUTarget.arch(ofBinary: binary) ?? QEMUBinary.hostArch)
    }

    /// Starts `binary` with `arguments` (see ``probeArguments(accelerator:machine:extra:)``) and connects.
    /// - Throws: ``ProberError/qemuFailedToStart(binary:detail:stderr:)`` with QEMU's stderr when it exits or
    ///   never answers, ``ProberError/qmp(_:)`` for other QMP failures.
    package static func start(binary: String, accelerator: String, arguments: [String],
                             configuration: QMPClient.Configuration = .init()) async throws -> QEMUInstance {
        let process = try QEMUProcess(binary: binary, arguments: arguments)
        let client = QMPClient(configuration: configuration)
        do {
            try await client.connect(to: process.monitor)
        } catch let error as QMPError {
            await client.close()
            // QEMU that exits at start shows up as a monitor that closes before the greeting.
            let status = await process.waitForExit(timeout: .milliseconds(500))
            if status == nil { process.kill() }
            let detail = status.map { "exited with status \($0) before its monitor answered" }
                ?? "did not complete the QMP handshake (\(error))"
            throw ProberError.qemuFailedToStart(binary: binary, detail: detail, stderr: process.stderr)
        } catch {
            await client.close()
            process.kill()
            throw error
        }
        return QEMUInstance(process: process, client: client, accelerator: accelerator)
    }

    /// Asks QEMU to quit, closes the client and makes sure the process is gone (SIGTERM, then SIGKILL).
    package func shutdown() async {
        if client.runState == .running {
            _ = try? await client.execute("quit", timeout: .seconds(2))
        }
        await client.close()
        await process.stop()
        process.directory.remove()
    }
}
