import Foundation
import Prober
import QMP
import Testing

/// Shared set-up for tests that run the real QEMU of this machine.
enum LiveQEMU {
    /// The local `qemu-system-x86_64` (or the host arch's), or nil when not installed.
    static let binary: String? = try? QEMUBinary.locate()

    /// The accelerators to test: KVM when usable, and TCG always.
    static var accelerators: [String] { QEMUBinary.kvmUsable ? ["kvm", "tcg"] : ["tcg"] }

    /// Whether live tests can run. CI installs QEMU, so a missing binary there is a failure, not a skip.
    static var available: Bool {
        if binary == nil, ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("CI must install QEMU: qemu-system-\(QEMUBinary.hostArch) is not on PATH")
        }
        return binary != nil
    }

    /// Starts a probing QEMU with `accelerator` and runs `body`, always shutting QEMU down.
    static func withInstance<R>(accelerator: String = "tcg", machine: String = "none", extra: [String] = [],
                                configuration: QMPClient.Configuration = .init(),
                                _ body: (QEMUInstance) async throws -> R) async throws -> R {
        let binary = try #require(binary)
        let instance = try await QEMUInstance.start(
            binary: binary, accelerator: accelerator,
            arguments: QEMUInstance.probeArguments(accelerator: accelerator, machine: machine, extra: extra),
            configuration: configuration)
        return try await using(instance, body)
    }

    /// Runs `body` with a started `instance`, then shuts it down, whether `body` returned or threw.
    static func using<R>(_ instance: QEMUInstance, _ body: (QEMUInstance) async throws -> R) async throws -> R {
        do {
            let result = try await body(instance)
            await instance.shutdown()
            return result
        } catch {
            await instance.shutdown()
            throw error
        }
    }
}

extension LiveQEMU {
    /// The second QEMU (10.0, unpacked by scripts/fetch-qemu-backports.sh), from `QMP_PROBE_QEMU_NEW` or its
    /// default place; in CI it must be there.
    static let newQEMU: String? = {
        if let path = ProcessInfo.processInfo.environment["QMP_PROBE_QEMU_NEW"], !path.isEmpty { return path }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let path = url.path + "/.qemu-backports/bin/qemu-system-x86_64"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()
}
