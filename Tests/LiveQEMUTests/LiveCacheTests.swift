import Foundation
import Prober
import QMP
import Synchronization
import Testing

/// Counts the probes that really ran.
final class RunCounter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

/// Compares two gathered probes member by member (`AcceleratorProbe` is not `Equatable`).
enum ProbeComparison {
    static func expectSame(_ a: AcceleratorProbe, _ b: AcceleratorProbe, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.accelerator == b.accelerator && a.version == b.version && a.arch == b.arch, sourceLocation: sourceLocation)
        #expect(a.kvm == b.kvm && a.support == b.support && a.definitions == b.definitions, sourceLocation: sourceLocation)
        #expect(a.notes == b.notes, sourceLocation: sourceLocation)
        #expect(a.hostModel?.expansion == b.hostModel?.expansion && a.hostModel?.full == b.hostModel?.full
                && a.hostModel?.nonMigratable == b.hostModel?.nonMigratable && a.hostModel?.method == b.hostModel?.method,
                sourceLocation: sourceLocation)
        #expect(Set(a.expansions.keys) == Set(b.expansions.keys), sourceLocation: sourceLocation)
        for (name, expansions) in a.expansions {
            #expect(expansions.staticExpansion == b.expansions[name]?.staticExpansion
                    && expansions.fullExpansion == b.expansions[name]?.fullExpansion, "\(name)", sourceLocation: sourceLocation)
        }
    }
}

/// The cache and the worker split against this machine's real QEMU.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveCacheTests {
    /// A private temporary directory.
    static func temporaryDirectory() throws -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/live-cache-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ProberError.environment("mkdtemp failed") }
        return String(cString: made)
    }

    @Test("a copied QEMU: probed once, then served from the cache, probed again after touching it (ctime changed)")
    func touchedBinary() async throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // QEMU finds its modules (Debian builds TCG as one) and data relative to its own directory: the copy goes
        // into PREFIX/bin with PREFIX/lib and PREFIX/share linked to the original's.
        let original = URL(fileURLWithPath: try #require(LiveQEMU.binary)).resolvingSymlinksInPath()
        let prefix = original.deletingLastPathComponent().deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: root + "/prefix/bin", withIntermediateDirectories: true)
        for directory in ["lib", "share"] {
            try FileManager.default.createSymbolicLink(atPath: root + "/prefix/" + directory, withDestinationPath: prefix + "/" + directory)
        }
        let qemu = root + "/prefix/bin/" + original.lastPathComponent
        try LiveQEMU.copyExecutable(original.path, to: qemu)
        let cache = try ProbeCache(directory: root + "/cache/qmp-probe")
        let probes = RunCounter()

        func cachedProbe() async throws -> (bytes: [UInt8], fromCache: Bool) {
            let key = try #require(CacheKey(binary: qemu, options: ["accel=tcg", "test"]))
            return try await CachedProbe(cache: cache, key: key).output(.json) {
                _ = probes.next()
                var runner = ProbeRunner(source: .launch(binary: qemu, accelerators: ["tcg"]))
                runner.expandModels = false
                return try await runner.run()
            }
        }

        let first = try await cachedProbe()
        #expect(!first.fromCache && probes.count == 1)
        let report = try JSON.parse(first.bytes)
        #expect(report["qemu"]?["binary"]?.stringValue == qemu)
        #expect((report["accelerators"]?["tcg"]?["models"]?.arrayValue?.count ?? 0) > 100)

        let second = try await cachedProbe()
        #expect(second.fromCache && second.bytes == first.bytes && probes.count == 1)

        // Touch it keeping its times: only the ctime changes (as with chmod, chown, a new link, or a copy over it
        // that keeps the mtime), and the next probe is fresh.
        let before = try #require(FileIdentity.of(qemu))
        var times = [timespec(tv_sec: Int(before.modificationTime.seconds), tv_nsec: Int(before.modificationTime.nanoseconds)),
                     timespec(tv_sec: Int(before.modificationTime.seconds), tv_nsec: Int(before.modificationTime.nanoseconds))]
        try await Task.sleep(for: .milliseconds(20))
        #expect(utimensat(AT_FDCWD, qemu, &times, 0) == 0)
        let after = try #require(FileIdentity.of(qemu))
        #expect(after.modificationTime == before.modificationTime && after.size == before.size)
        #expect(after.changeTime != before.changeTime)

        let third = try await cachedProbe()
        #expect(!third.fromCache && probes.count == 2)
        #expect(third.bytes == first.bytes)
        let fourth = try await cachedProbe()
        #expect(fourth.fromCache && probes.count == 2)
    }
}

/// `--workers`: several QEMU processes per accelerator give the same probe as one.
@Suite(.enabled(if: LiveQEMU.available, "qemu-system-\(QEMUBinary.hostArch) is not installed"))
struct LiveWorkerSplitTests {
    @Test("1, 2 and 3 QEMU processes per accelerator gather identical probes", arguments: LiveQEMU.accelerators)
    func identical(accelerator: String) async throws {
        var gathered: [Int: AcceleratorProbe] = [:]
        for workers in [1, 2, 3] {
            var runner = ProbeRunner(source: .launch(binary: nil, accelerators: [accelerator]))
            runner.workers = workers
            gathered[workers] = try await runner.gather().probes.first
        }
        let one = try #require(gathered[1])
        #expect(one.expansions.count > 100)
        #expect(one.notes.isEmpty, "\(one.notes)")
        for workers in [2, 3] { ProbeComparison.expectSame(try #require(gathered[workers]), one) }
    }

    @Test("both accelerators, 1 or 2 QEMU processes each (one introspection for both), report exactly what a recorded probe (every session on its own) reports",
          .enabled(if: QEMUBinary.kvmUsable))
    func both() async throws {
        let directory = try LiveCacheTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var recorded = ProbeRunner(source: .launch(binary: nil, accelerators: LiveQEMU.accelerators))
        recorded.recordPath = directory + "/probe.jsonl"
        let reference = try await recorded.run().json
        for workers in [1, 2] {
            var runner = ProbeRunner(source: .launch(binary: nil, accelerators: LiveQEMU.accelerators))
            runner.workers = workers
            #expect(try await runner.run().json == reference, "\(workers) per accelerator")
        }
    }
}
