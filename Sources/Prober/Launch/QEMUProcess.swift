import CSpawn
import Foundation
import QMP

/// A QEMU process started by the prober, its monitor on one end of a socketpair.
///
/// The child gets a parent-death signal (SIGKILL) so it cannot outlive the prober, its stderr goes to a file
/// in a private 0700 directory, and ``stop(grace:)`` ends it (SIGTERM, then SIGKILL) and reaps it.
package final class QEMUProcess: Sendable {
    /// The binary that was started.
    package let binary: String
    /// The arguments it was started with (without the binary).
    package let arguments: [String]
    /// The process id.
    package let pid: pid_t
    /// The monitor: our end of the socketpair (the client takes ownership when it connects).
    package let monitor: QMPEndpoint
    /// The private directory holding QEMU's stderr.
    package let directory: PrivateDirectory
    private let stderrPath: String

    /// Starts `binary` with the QMP monitor on a socketpair and `arguments` after it.
    /// - Throws: ``ProberError/qemuFailedToStart(binary:detail:stderr:)`` when the binary cannot be executed.
    package init(binary: String, arguments: [String], directory: PrivateDirectory? = nil) throws {
        // Stale directories of killed runs are looked for after QEMU is started, while it initializes: scanning a
        // busy /tmp took 2-3 ms of the probe's critical path before its QEMU could start.
        let directory = try directory ?? PrivateDirectory(removingStale: false)
        defer { PrivateDirectory.removeStaleOnce() }
        self.binary = binary
        self.directory = directory
        self.stderrPath = directory.path + "/qemu.stderr"
        let monitorArguments = ["-chardev", "socket,id=qmp,fd=3", "-mon", "chardev=qmp,mode=control"]
        self.arguments = monitorArguments + arguments

        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw ProberError.environment("socketpair failed: \(String(cString: strerror(errno)))")
        }
        let stderrFD = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer {
            close(pair[1])
            if stderrFD >= 0 { close(stderrFD) }
        }
        let argv = [binary] + self.arguments
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let pid = Self.withCStrings(argv) { cArgv in
            Self.withCStrings(environment) { cEnv in
                cspawn_start(binary, cArgv, cEnv, pair[1], stderrFD)
            }
        }
        guard pid > 0 else {
            let reason = String(cString: strerror(errno))
            close(pair[0])
            throw ProberError.qemuFailedToStart(binary: binary, detail: "could not be executed: \(reason)", stderr: "")
        }
        self.pid = pid
        self.monitor = .connectedSocket(descriptor: pair[0])
        ChildRegistry.shared.add(pid: pid)
        ProbeTimeline.mark("qemu-started")
    }

    /// What QEMU wrote on stderr so far.
    package var stderr: String {
        (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    }

    /// The exit status if QEMU has exited (reaping it), else nil.
    package func exitStatus() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            ChildRegistry.shared.remove(pid: pid)
            return Self.decode(status)
        }
        if result < 0 && errno == ECHILD { return -1 }
        return nil
    }

    /// Waits up to `timeout` for QEMU to exit by itself; returns its status, or nil if it is still running.
    package func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = exitStatus() { return status }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Ends QEMU: waits `grace` for it to exit (after `quit`, say), then SIGTERM, then SIGKILL; always reaps it.
    package func stop(grace: Duration = .milliseconds(500)) async {
        if await waitForExit(timeout: grace) != nil { return }
        Glibc.kill(pid, SIGTERM)
        Glibc.kill(pid, SIGCONT)  // a stopped QEMU acts on SIGTERM only once continued
        if await waitForExit(timeout: .seconds(2)) != nil { return }
        Glibc.kill(pid, SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
    }

    /// Ends QEMU at once (SIGKILL) and reaps it; for clean-up paths that cannot wait.
    package func kill() {
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        ChildRegistry.shared.remove(pid: pid)
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
