import Foundation
import Prober
import QMP
import Testing

/// Shared set-up for tests that run the real QEMU of this machine.
enum LiveQEMU {
    /// The local `qemu-system-x86_64` (or the host arch's), or nil when not installed.
    static let binary: String? = try? QEMUBinary.locate()

    /// The accelerators to test: KVM when usable, and TCG always. A run without KVM says so, and fails in CI unless it
    /// is declared TCG only (``KVMCoverage``, `KVMCoverageTests/thisRun`).
    static let accelerators: [String] = {
        let coverage = KVMCoverage(kvmUsable: QEMUBinary.kvmUsable, environment: ProcessInfo.processInfo.environment)
        if let message = coverage.message { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        return coverage == .present ? ["kvm", "tcg"] : ["tcg"]
    }()

    /// Whether live tests can run. CI installs QEMU, so a missing binary there is a failure, not a skip.
    static var available: Bool {
        if binary == nil, ProcessInfo.processInfo.environment["CI"] != nil {
            Issue.record("CI must install QEMU: qemu-system-\(QEMUBinary.hostArch) is not on PATH")
        }
        return binary != nil
    }

    /// Copies the executable `source` to `destination` through a close-on-exec descriptor: a child that another test
    /// starts meanwhile must not inherit the copy open for writing, or running the copy fails with ETXTBSY ("Text file
    /// busy") for as long as that child lives. (FileManager.copyItem's descriptor is inherited.)
    static func copyExecutable(_ source: String, to destination: String) throws {
        let contents = try Data(contentsOf: URL(fileURLWithPath: source))
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination]) }
        defer { close(fd) }
        try contents.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination]) }
                offset += written
            }
        }
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
