import Foundation
import Prober
import QMP
import Synchronization
import Testing

/// A machine made up for the cache tests: every input of a ``CacheKey`` can be changed without root.
struct FakeEnvironment: CacheKeyEnvironment {
    var files: [String: FileIdentity]
    var kernelIdentity = KernelIdentity(release: "6.1.0-30-amd64", version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.124-1",
                                        commandLine: "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet")
    var kvm = true
    var cpu: HostCPUIdentity? = HostCPUIdentity(
        signature: HostCPUSignature(vendor: "AuthenticAMD", family: 25, model: 1, stepping: 1, microcode: "0x1000065",
                                    modelName: "AMD EPYC"),
        flags: "fpu vme de pse tsc msr pae mce cx8 apic")
    var executable: FileIdentity? = FakeEnvironment.file("/usr/local/bin/qmp-probe", size: 9_000_000)

    static let qemu = "/usr/bin/qemu-system-x86_64"

    init() {
        files = [Self.qemu: Self.file(Self.qemu, size: 20_000_000), "/dev/kvm": Self.file("/dev/kvm", size: 0)]
    }

    static func file(_ path: String, size: Int64, inode: UInt64 = 4242, seconds: Int64 = 1_700_000_000) -> FileIdentity {
        FileIdentity(path: path, device: 2049, inode: inode, size: size,
                     changeTime: .init(seconds: seconds, nanoseconds: 5), modificationTime: .init(seconds: seconds, nanoseconds: 5))
    }

    func identity(ofFile path: String) -> FileIdentity? { files[path] }
    func kernel() -> KernelIdentity { kernelIdentity }
    func kvmAccess() -> Bool { kvm }
    func hostCPU() -> HostCPUIdentity? { cpu }
    func proberExecutable() -> FileIdentity? { executable }
}

/// Support for the cache tests: a private cache directory and a probe that counts its runs.
enum CacheTestSupport {
    /// A fresh directory under the test's temporary directory; the cache goes into its `qmp-probe` subdirectory.
    static func temporaryDirectory() throws -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/cache-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ProberError.environment("mkdtemp failed") }
        return String(cString: made)
    }

    /// A small report that names the run that made it, so a fresh probe and a cached one can be told apart.
    static func report(run: Int) -> ProbeReport {
        var probe = AcceleratorProbe(accelerator: "tcg", version: QEMUVersion(major: 7, minor: 2, micro: 22), arch: "x86_64")
        probe.notes = ["run \(run)"]
        return ProbeReport.compute(probes: [probe], source: "live", binary: FakeEnvironment.qemu)
    }

    /// Mode bits of a path.
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        lstat(path, &info)
        return info.st_mode & 0o7777
    }
}

/// A counter shared with the probe closures.
final class RunCounter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// The cache of live probe results: keys, hits and misses, the entry format, and the directory's safety.
struct CacheTests {
    /// Runs a cached probe of `environment` in `cache`; returns the output and whether it came from the cache.
    func probe(_ environment: FakeEnvironment, options: [String] = ["accel=kvm,tcg"], version: String = ProberVersion.current,
               cache: ProbeCache, counter: RunCounter,
               presentation: ProbePresentation = .json) async throws -> (bytes: [UInt8], fromCache: Bool) {
        var key = try #require(CacheKey(binary: FakeEnvironment.qemu, options: options, environment: environment))
        key.proberVersion = version
        return await CachedProbe(cache: cache, key: key).output(presentation) { CacheTestSupport.report(run: counter.next()) }
    }

    @Test("the same inputs are served from the cache without probing; the output is the stored one")
    func hit() async throws {
        let root = try CacheTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try ProbeCache(directory: root + "/qmp-probe")
        let counter = RunCounter()
        let first = try await probe(FakeEnvironment(), cache: cache, counter: counter)
        #expect(!first.fromCache)
        #expect(String(decoding: first.bytes, as: UTF8.self).contains("run 1"))
        let second = try await probe(FakeEnvironment(), cache: cache, counter: counter)
        #expect(second.fromCache)
        #expect(second.bytes == first.bytes)
        #expect(counter.count == 1)
        // Every presentation was stored by the first probe, exactly as it prints.
        let report = CacheTestSupport.report(run: 1)
        for presentation in ProbePresentation.allCases {
            let output = try await probe(FakeEnvironment(), cache: cache, counter: counter, presentation: presentation)
            #expect(output.fromCache)
            #expect(output.bytes == presentation.render(report))
        }
        #expect(counter.count == 1)
    }

    @Test("changing any input of the key gives a fresh probe (and then a hit for the new inputs)")
    func everyInputChangesTheKey() async throws {
        let root = try CacheTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try ProbeCache(directory: root + "/qmp-probe")
        let base = FakeEnvironment()
        let qemu = try #require(base.files[FakeEnvironment.qemu])
        var changes: [(String, FakeEnvironment, [String], String)] = []
        func change(_ name: String, options: [String] = ["accel=kvm,tcg"], version: String = ProberVersion.current,
                    _ edit: (inout FakeEnvironment) -> Void = { _ in }) {
            var environment = base
            edit(&environment)
            changes.append((name, environment, options, version))
        }
        change("QEMU binary size") { $0.files[FakeEnvironment.qemu]?.size += 1 }
        change("QEMU binary ctime (touched, same contents)") { $0.files[FakeEnvironment.qemu]?.changeTime.nanoseconds += 1 }
        change("QEMU binary mtime") { $0.files[FakeEnvironment.qemu]?.modificationTime.seconds += 1 }
        change("QEMU binary replaced (new inode)") { $0.files[FakeEnvironment.qemu]?.inode += 1 }
        change("QEMU binary on another device") { $0.files[FakeEnvironment.qemu]?.device += 1 }
        change("kernel release") { $0.kernelIdentity.release = "6.1.0-31-amd64" }
        change("kernel build") { $0.kernelIdentity.version = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.128-1" }
        change("kernel command line") { $0.kernelIdentity.commandLine! += " tsx=off" }
        change("no access to /dev/kvm") { $0.kvm = false }
        change("/dev/kvm recreated (kvm module reloaded)") { $0.files["/dev/kvm"]?.changeTime.seconds += 60 }
        change("/dev/kvm gone") { $0.files["/dev/kvm"] = nil }
        change("microcode update") { $0.cpu?.signature.microcode = "0x1000066" }
        change("another CPU stepping") { $0.cpu?.signature.stepping = 2 }
        change("another CPU model") { $0.cpu?.signature.model = 17 }
        change("another CPU family") { $0.cpu?.signature.family = 26 }
        change("another CPU vendor") { $0.cpu?.signature.vendor = "GenuineIntel" }
        change("another CPU name") { $0.cpu?.signature.modelName = "AMD EPYC 7B13" }
        change("CPU flags (a feature turned off)") { $0.cpu?.flags = "fpu vme de pse tsc msr pae mce cx8" }
        change("host CPU unknown") { $0.cpu = nil }
        change("prober rebuilt") { $0.executable?.modificationTime.seconds += 1 }
        change("prober version", version: ProberVersion.current + "-next")
        change("options: accelerators", options: ["accel=tcg"])
        change("options: --against", options: ["accel=kvm,tcg", "against=/tmp/old.jsonl"])

        let counter = RunCounter()
        let first = try await probe(base, cache: cache, counter: counter)
        #expect(!first.fromCache)
        var digests: Set<String> = [try #require(CacheKey(binary: FakeEnvironment.qemu, options: ["accel=kvm,tcg"], environment: base)).digest]
        for (name, environment, options, version) in changes {
            let before = counter.count
            let fresh = try await probe(environment, options: options, version: version, cache: cache, counter: counter)
            #expect(!fresh.fromCache, "\(name): served from the cache")
            #expect(counter.count == before + 1, "\(name): not probed again")
            #expect(String(decoding: fresh.bytes, as: UTF8.self).contains("run \(counter.count)\""), "\(name)")
            let again = try await probe(environment, options: options, version: version, cache: cache, counter: counter)
            #expect(again.fromCache && again.bytes == fresh.bytes, "\(name): the new inputs' result is not cached")
            var key = try #require(CacheKey(binary: FakeEnvironment.qemu, options: options, environment: environment))
            key.proberVersion = version
            #expect(digests.insert(key.digest).inserted, "\(name): same file name as another key")
        }
        // The original inputs still find their own result.
        let original = try await probe(base, cache: cache, counter: counter)
        #expect(original.fromCache && original.bytes == first.bytes)
        #expect(qemu.path == FakeEnvironment.qemu)
    }

    @Test("a QEMU binary that cannot be stat'ed has no key: nothing is cached")
    func noBinary() {
        var environment = FakeEnvironment()
        environment.files[FakeEnvironment.qemu] = nil
        #expect(CacheKey(binary: FakeEnvironment.qemu, options: [], environment: environment) == nil)
    }

    @Test("an entry of another key under the same name, a damaged entry, or one others can write is a miss")
    func untrustedEntries() async throws {
        let root = try CacheTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/qmp-probe"
        let cache = try ProbeCache(directory: directory)
        let counter = RunCounter()
        let key = try #require(CacheKey(binary: FakeEnvironment.qemu, options: ["accel=kvm,tcg"], environment: FakeEnvironment()))
        let file = directory + "/" + key.digest + ".entry"
        _ = try await probe(FakeEnvironment(), cache: cache, counter: counter)
        let good = try Data(contentsOf: URL(fileURLWithPath: file))

        // The same file name with another key inside (a digest collision) is not served.
        var otherKey = key
        otherKey.options = ["accel=tcg"]
        let collided = String(decoding: good, as: UTF8.self).replacingOccurrences(of: key.canonical, with: otherKey.canonical)
        try collided.write(toFile: file, atomically: false, encoding: .utf8)
        #expect(cache.lookup(key, .json) == nil)

        // Truncated or garbage entries are misses, never crashes.
        for damaged in [good.prefix(good.count / 2), Data("qmp-probe-cache/1\n".utf8), Data("garbage".utf8),
                        Data((String(decoding: good, as: UTF8.self).components(separatedBy: "\n").prefix(2).joined(separator: "\n")
                              + "\njson 99999999 text 1 verbose 1\n{}").utf8)] {
            try damaged.write(to: URL(fileURLWithPath: file))
            #expect(cache.lookup(key, .json) == nil)
            #expect(cache.lookup(key, .verbose) == nil)
        }

        // A good entry that others can write is not trusted.
        try good.write(to: URL(fileURLWithPath: file))
        #expect(cache.lookup(key, .json) != nil)
        chmod(file, 0o666)
        #expect(cache.lookup(key, .json) == nil)
        chmod(file, 0o600)

        // A symbolic link in place of the entry is not followed.
        try FileManager.default.moveItem(atPath: file, toPath: root + "/elsewhere")
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: root + "/elsewhere")
        #expect(cache.lookup(key, .json) == nil)
        // Storing replaces the link with a private regular file.
        _ = try await probe(FakeEnvironment(), cache: cache, counter: counter)
        #expect(counter.count == 2)
        var info = stat()
        lstat(file, &info)
        #expect(info.st_mode & S_IFMT == S_IFREG)
    }

    @Test("the cache directory is made 0700 (its parent too), entries 0600; an open directory of ours is made private")
    func permissions() async throws {
        let root = try CacheTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/cache/qmp-probe"
        let previous = umask(0)
        defer { umask(previous) }
        let cache = try ProbeCache(directory: directory)
        #expect(CacheTestSupport.mode(directory) == 0o700)
        #expect(CacheTestSupport.mode(root + "/cache") == 0o700)
        _ = try await probe(FakeEnvironment(), cache: cache, counter: RunCounter())
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(entries.count == 1)
        #expect(entries.allSatisfy { $0.hasSuffix(".entry") })
        for entry in entries { #expect(CacheTestSupport.mode(directory + "/" + entry) == 0o600) }

        chmod(directory, 0o755)
        _ = try ProbeCache(directory: directory)
        #expect(CacheTestSupport.mode(directory) == 0o700)
    }

    @Test("a cache directory that is a symbolic link or not a directory is refused")
    func refusedPaths() throws {
        let root = try CacheTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/real", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/real")
        #expect(throws: ProbeCacheError.self) { try ProbeCache(directory: root + "/link") }
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/file"))
        #expect(throws: ProbeCacheError.self) { try ProbeCache(directory: root + "/file") }
    }

    @Test("a cache directory owned by someone else is refused", .enabled(if: geteuid() == 0, "needs root to chown"))
    func otherOwner() throws {
        let root = try CacheTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/qmp-probe"
        mkdir(directory, 0o700)
        #expect(chown(directory, 65534, 65534) == 0)
        let error = #expect(throws: ProbeCacheError.self) { try ProbeCache(directory: directory) }
        #expect(error?.description.contains("uid 65534") == true)
    }

    @Test("the default directory: $XDG_CACHE_HOME/qmp-probe, else ~/.cache/qmp-probe")
    func defaultDirectory() {
        #expect(ProbeCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]) == "/x/cache/qmp-probe")
        #expect(ProbeCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.cache/qmp-probe")
        #expect(ProbeCache.defaultDirectory(environment: ["HOME": "/home/u"]) == "/home/u/.cache/qmp-probe")
        #expect(ProbeCache.defaultDirectory(environment: [:])?.hasSuffix("/.cache/qmp-probe") == true)
    }

    @Test("old entries are removed beyond the limit")
    func pruning() async throws {
        let root = try CacheTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/qmp-probe"
        let cache = try ProbeCache(directory: directory)
        let counter = RunCounter()
        for index in 0..<(ProbeCache.maxEntries + 5) {
            _ = try await probe(FakeEnvironment(), options: ["accel=tcg", "n=\(index)"], cache: cache, counter: counter)
        }
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(entries.count == ProbeCache.maxEntries)
        // The newest is kept.
        let last = try await probe(FakeEnvironment(), options: ["accel=tcg", "n=\(ProbeCache.maxEntries + 4)"], cache: cache,
                                   counter: counter)
        #expect(last.fromCache)
    }

    @Test("the canonical key is one line (escaped values) and the digest is 32 hex digits")
    func canonical() throws {
        var environment = FakeEnvironment()
        environment.kernelIdentity.commandLine = "a\tb\nc\\d"
        let key = try #require(CacheKey(binary: FakeEnvironment.qemu, options: ["accel=tcg"], environment: environment))
        #expect(!key.canonical.contains("\n"))
        #expect(key.canonical.contains("kernel-cmdline=a\\tb\\nc\\\\d"))
        #expect(key.canonical.contains("AuthenticAMD/25/1/1/0x1000065/AMD EPYC flags=fpu vme"))
        #expect(key.digest.count == 32 && key.digest.allSatisfy(\.isHexDigit))
        #expect(key.digest == CacheKey(binary: FakeEnvironment.qemu, options: ["accel=tcg"], environment: environment)?.digest)
    }

    @Test("the host CPU identity reads the first processor's signature and flags")
    func hostCPU() {
        let text = """
            processor\t: 0
            vendor_id\t: AuthenticAMD
            cpu family\t: 25
            model\t\t: 1
            stepping\t: 1
            microcode\t: 0x1000065
            flags\t\t: fpu vme de
            model name\t: AMD EPYC

            processor\t: 1
            flags\t\t: other
            """
        let cpu = HostCPUIdentity(cpuinfo: text)
        #expect(cpu.signature.vendor == "AuthenticAMD" && cpu.signature.family == 25 && cpu.signature.microcode == "0x1000065")
        #expect(cpu.flags == "fpu vme de")
        // The system reader gives this machine's first block.
        let system = SystemEnvironment().hostCPU()
        #expect(system?.signature == HostCPUSignature.current())
    }
}
