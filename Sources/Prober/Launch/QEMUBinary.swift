import Foundation

/// Finds QEMU system emulators and knows the host's architecture and accelerators.
package enum QEMUBinary {
    /// The QEMU target name of the machine we run on (`x86_64`, `aarch64`, `s390x`, `ppc64`, `riscv64`).
    package static var hostArch: String {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: &info.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        switch machine {
        case "ppc64le": return "ppc64"
        case "armv7l", "armv8l": return "arm"
        case "i686", "i586": return "i386"
        default: return machine
        }
    }

    /// Whether KVM can be used by this process (`/dev/kvm` exists and opens read-write).
    package static var kvmUsable: Bool {
        let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// The accelerator a guest runs on when none is asked for: KVM when usable, else TCG.
    package static var defaultAccelerator: String { kvmUsable ? "kvm" : "tcg" }

    /// The binary to run: `explicit` when given (it must be executable), else `qemu-system-<arch>` on `PATH`.
    /// - Throws: ``ProberError/qemuNotFound(_:)`` with a hint on how to install it.
    package static func locate(explicit: String? = nil, arch: String = hostArch) throws -> String {
        if let explicit {
            guard access(explicit, X_OK) == 0 else {
                throw ProberError.qemuNotFound("\(explicit): \(String(cString: strerror(errno)))")
            }
            return explicit
        }
        let name = "qemu-system-\(arch)"
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw ProberError.qemuNotFound(
            "\(name) was not found on PATH; install it (Debian: apt-get install \(debianPackage(for: arch))) or pass --qemu PATH")
    }

    /// The Debian package that ships `qemu-system-<arch>`.
    package static func debianPackage(for arch: String) -> String {
        switch arch {
        case "x86_64", "i386": return "qemu-system-x86"
        case "aarch64", "arm": return "qemu-system-arm"
        case "ppc64", "ppc": return "qemu-system-ppc"
        case "s390x", "riscv64": return "qemu-system-misc"
        default: return "qemu-system"
        }
    }
}
