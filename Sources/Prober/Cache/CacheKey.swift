import Foundation
import QMP

/// A file as `stat` sees it: enough to notice that it was replaced, rewritten, or only touched.
package struct FileIdentity: Sendable, Hashable {
    /// The path it was looked up by.
    package var path: String
    /// The device holding it.
    package var device: UInt64
    /// Its inode number (a replaced file gets a new one).
    package var inode: UInt64
    /// Its size in bytes.
    package var size: Int64
    /// Its change time (ctime: contents, permissions, owner, links, `touch`), seconds and nanoseconds.
    package var changeTime: Timestamp
    /// Its modification time (mtime), seconds and nanoseconds.
    package var modificationTime: Timestamp

    /// A point in time as `stat` gives it.
    package struct Timestamp: Sendable, Hashable, CustomStringConvertible {
        /// Seconds since the epoch.
        package var seconds: Int64
        /// Nanoseconds within the second.
        package var nanoseconds: Int64

        /// A timestamp from its parts.
        package init(seconds: Int64, nanoseconds: Int64) {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        }

        /// `SECONDS.NANOSECONDS`.
        package var description: String {
            let fraction = String(nanoseconds)
            return "\(seconds).\(String(repeating: "0", count: max(0, 9 - fraction.count)))\(fraction)"
        }
    }

    /// An identity from its parts.
    package init(path: String, device: UInt64, inode: UInt64, size: Int64, changeTime: Timestamp, modificationTime: Timestamp) {
        self.path = path
        self.device = device
        self.inode = inode
        self.size = size
        self.changeTime = changeTime
        self.modificationTime = modificationTime
    }

    /// `stat`s `path` (following symbolic links); nil when it cannot.
    package static func of(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(path: path, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                            changeTime: Timestamp(seconds: Int64(info.st_ctim.tv_sec), nanoseconds: Int64(info.st_ctim.tv_nsec)),
                            modificationTime: Timestamp(seconds: Int64(info.st_mtim.tv_sec),
                                                        nanoseconds: Int64(info.st_mtim.tv_nsec)))
    }

    /// The identity in one line: path, device, inode, size, ctime, mtime.
    package var summary: String {
        "\(path) dev=\(device) ino=\(inode) size=\(size) ctime=\(changeTime) mtime=\(modificationTime)"
    }
}

/// The running kernel, as far as it can change what QEMU reports: its release and build (`uname -r`, `uname -v`)
/// and its command line (`clearcpuid=`, `tsx=`, `kvm-intel.nested=`... change the CPU features KVM offers).
package struct KernelIdentity: Sendable, Hashable {
    /// `uname -r`.
    package var release: String
    /// `uname -v` (the build: a rebuilt kernel with the same release differs here).
    package var version: String
    /// `/proc/cmdline`, when readable.
    package var commandLine: String?

    /// A kernel identity from its parts.
    package init(release: String, version: String, commandLine: String?) {
        self.release = release
        self.version = version
        self.commandLine = commandLine
    }
}

/// The host CPU: its signature and microcode (`HostCPUSignature`) and the feature flags the kernel shows.
package struct HostCPUIdentity: Sendable, Hashable {
    /// Vendor, family, model, stepping, microcode, model name.
    package var signature: HostCPUSignature
    /// The kernel's feature flags of the first CPU (`flags` on x86, `Features` on arm64, `features` on s390x).
    package var flags: String?

    /// An identity from its parts.
    package init(signature: HostCPUSignature, flags: String?) {
        self.signature = signature
        self.flags = flags
    }

    /// Parses the first processor block of a `/proc/cpuinfo` text.
    package init(cpuinfo text: String) {
        signature = HostCPUSignature.parse(cpuinfo: text)
        flags = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            if key == "flags" || key == "Features" || key == "features" {
                flags = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                break
            }
        }
    }
}

/// Where a ``CacheKey`` gets its inputs. ``SystemEnvironment`` reads this machine; tests give fakes, so that every
/// input can be varied without root.
package protocol CacheKeyEnvironment: Sendable {
    /// The identity of the file at `path`, nil when it cannot be `stat`ed.
    func identity(ofFile path: String) -> FileIdentity?
    /// The running kernel.
    func kernel() -> KernelIdentity
    /// Whether this process can use KVM (`/dev/kvm` opens read-write).
    func kvmAccess() -> Bool
    /// The host CPU, nil when unknown.
    func hostCPU() -> HostCPUIdentity?
    /// The identity of the running prober executable, nil when unknown.
    func proberExecutable() -> FileIdentity?
}

/// The real machine: `stat`, `uname`, `/proc/cmdline`, `/dev/kvm`, the first block of `/proc/cpuinfo`,
/// `/proc/self/exe`. Cheap (a few system calls): it runs on every cached probe.
package struct SystemEnvironment: CacheKeyEnvironment {
    /// The system environment.
    package init() {}

    /// `stat(path)`.
    package func identity(ofFile path: String) -> FileIdentity? { FileIdentity.of(path) }

    /// `uname` and `/proc/cmdline`.
    package func kernel() -> KernelIdentity {
        var info = utsname()
        uname(&info)
        func field<T>(_ value: inout T) -> String {
            withUnsafeBytes(of: &value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        let commandLine = Self.readPrefix("/proc/cmdline", limit: 1 << 16)
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        return KernelIdentity(release: field(&info.release), version: field(&info.version), commandLine: commandLine)
    }

    /// Whether `/dev/kvm` opens read-write.
    package func kvmAccess() -> Bool { QEMUBinary.kvmUsable }

    /// The first processor block of `/proc/cpuinfo` (read up to its first blank line only: on a large machine the
    /// whole file is long and slow to generate).
    package func hostCPU() -> HostCPUIdentity? {
        guard let bytes = Self.readPrefix("/proc/cpuinfo", limit: 1 << 16, until: [0x0A, 0x0A]) else { return nil }
        return HostCPUIdentity(cpuinfo: String(decoding: bytes, as: UTF8.self))
    }

    /// `/proc/self/exe`.
    package func proberExecutable() -> FileIdentity? { FileIdentity.of("/proc/self/exe") }

    /// Reads `path` up to `limit` bytes, stopping early once `until` has been read.
    static func readPrefix(_ path: String, limit: Int, until terminator: [UInt8]? = nil) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
            if let terminator, contains(bytes, terminator) { break }
        }
        return bytes
    }

    private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if Array(bytes[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}

/// Everything that can change the result of a live probe: the QEMU binary (path, device, inode, size, ctime,
/// mtime), the kernel (release, build, command line), access to `/dev/kvm` and the device's identity (a reloaded
/// `kvm` module recreates it, possibly with other parameters), the host CPU (signature, microcode, flags), the
/// prober (`ProberVersion.current` and its executable's identity, so a rebuilt prober never serves an older
/// build's results) and the options that shape the report.
package struct CacheKey: Sendable, Hashable {
    /// The QEMU binary probed.
    package var binary: FileIdentity
    /// The running kernel.
    package var kernel: KernelIdentity
    /// Whether `/dev/kvm` is usable.
    package var kvmAccess: Bool
    /// `/dev/kvm` itself, when it exists.
    package var kvmDevice: FileIdentity?
    /// The host CPU.
    package var hostCPU: HostCPUIdentity?
    /// `ProberVersion.current`.
    package var proberVersion: String
    /// The running prober executable.
    package var proberExecutable: FileIdentity?
    /// The options that shape the report (accelerators, `--against` and its file's identity, ...), in order.
    package var options: [String]

    /// A key from its parts.
    package init(binary: FileIdentity, kernel: KernelIdentity, kvmAccess: Bool, kvmDevice: FileIdentity?,
                hostCPU: HostCPUIdentity?, proberVersion: String = ProberVersion.current,
                proberExecutable: FileIdentity?, options: [String]) {
        self.binary = binary
        self.kernel = kernel
        self.kvmAccess = kvmAccess
        self.kvmDevice = kvmDevice
        self.hostCPU = hostCPU
        self.proberVersion = proberVersion
        self.proberExecutable = proberExecutable
        self.options = options
    }

    /// The key of a probe of `binary` with `options`, read from `environment`; nil when the binary cannot be
    /// `stat`ed (then nothing is cached).
    package init?(binary: String, options: [String], environment: some CacheKeyEnvironment = SystemEnvironment()) {
        guard let identity = environment.identity(ofFile: binary) else { return nil }
        self.init(binary: identity, kernel: environment.kernel(), kvmAccess: environment.kvmAccess(),
                  kvmDevice: environment.identity(ofFile: "/dev/kvm"), hostCPU: environment.hostCPU(),
                  proberExecutable: environment.proberExecutable(), options: options)
    }

    /// Every input in one line (`name=value` fields separated by tabs; tabs, newlines and backslashes in values
    /// escaped): stored in the cache entry and compared in full, so two keys with the same ``digest`` never mix.
    package var canonical: String {
        func escape(_ value: String) -> String {
            var out = ""
            out.reserveCapacity(value.utf8.count)
            for character in value.unicodeScalars {
                switch character {
                case "\\": out += "\\\\"
                case "\t": out += "\\t"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                default: out.unicodeScalars.append(character)
                }
            }
            return out
        }
        let cpu = hostCPU.map { cpu -> String in
            let signature = cpu.signature
            return [signature.vendor ?? "-", signature.family.map(String.init) ?? "-", signature.model.map(String.init) ?? "-",
                    signature.stepping.map(String.init) ?? "-", signature.microcode ?? "-", signature.modelName ?? "-"]
                .joined(separator: "/") + " flags=" + (cpu.flags ?? "-")
        } ?? "-"
        let fields: [(String, String)] = [
            ("prober", proberVersion),
            ("prober-exe", proberExecutable?.summary ?? "-"),
            ("qemu", binary.summary),
            ("kernel", kernel.release),
            ("kernel-build", kernel.version),
            ("kernel-cmdline", kernel.commandLine ?? "-"),
            ("kvm-access", kvmAccess ? "yes" : "no"),
            ("kvm-device", kvmDevice?.summary ?? "-"),
            ("host-cpu", cpu),
            ("options", options.joined(separator: " ")),
        ]
        return fields.map { "\($0.0)=\(escape($0.1))" }.joined(separator: "\t")
    }

    /// A 128-bit digest of ``canonical`` (two FNV-1a 64-bit hashes), as 32 hex digits: the entry's file name.
    package var digest: String {
        var first: UInt64 = 0xcbf2_9ce4_8422_2325
        var second: UInt64 = 0x6c62_272e_07bb_0142
        for byte in canonical.utf8 {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            second = (second &* 0x0000_0100_0000_01b3) ^ UInt64(byte) ^ (second >> 29)
        }
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(first) + hex(second)
    }
}
