import Foundation
import Testing

/// libvirt's recorded capability probes that the agreement tests replay: `../shared/corpus/libvirt` (QEMU 2.11 to
/// 6.2) and `tests/qemucapabilitiesdata/` of Debian's libvirt source package (QEMU 6.2 to 10.0), which
/// `scripts/fetch-libvirt-corpus.sh` fetches and `scripts/test.sh` names in ``environmentVariable``.
enum LibvirtCorpus {
    /// One recorded probe: `NAME.replies` and the `NAME.xml` libvirt computed from it.
    struct Session: Sendable, CustomTestStringConvertible {
        /// The folder holding both files.
        var folder: String
        /// The base name (`caps_10.0.0_x86_64+amdsev`, `caps_4.2.0.x86_64`).
        var name: String
        /// Which corpus it belongs to (`shared`, `libvirt source package`).
        var corpus: String

        /// The QMP conversation.
        var replies: String { "\(folder)/\(name).replies" }
        /// What libvirt computed from it.
        var xml: String { "\(folder)/\(name).xml" }
        /// The QEMU version and architecture (with any `+variant`) from the name: libvirt writes
        /// `caps_VERSION_ARCH` (`caps_VERSION.ARCH` in older trees).
        var versionAndArch: (version: String, arch: String) {
            let body = name.hasPrefix("caps_") ? String(name.dropFirst(5)) : name
            // The version is three dot-separated numbers; what follows its separator is the architecture.
            let dotted = body.split(separator: ".", maxSplits: 3).map(String.init)
            if dotted.count == 4, dotted[0...2].allSatisfy({ Int($0) != nil }) {
                return (dotted[0...2].joined(separator: "."), dotted[3])
            }
            let parts = body.split(separator: "_", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : (body, "?")
        }
        var testDescription: String { "\(corpus): \(name)" }
    }

    /// The variable naming the source package's `qemucapabilitiesdata/` folder (`scripts/test.sh` sets it).
    static let environmentVariable = "QMP_PROBE_LIBVIRT_CORPUS"

    /// The folder ``environmentVariable`` names, or nil (with a visible note) when it is not set: a developer's plain
    /// `swift test`. When it is set, the folder must be there (see the suite's test of it).
    static let sourcePackage: String? = {
        guard let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty else {
            print("note: \(environmentVariable) is not set: the sessions of libvirt's source package are not replayed (scripts/test.sh fetches them with scripts/fetch-libvirt-corpus.sh and sets it)")
            return nil
        }
        return path
    }()

    /// Every session of both corpora that is present, the shared ones first, each sorted by name.
    static let sessions: [Session] = {
        var sessions: [Session] = []
        if let shared = ProberTestSupport.libvirtCorpus { sessions += LibvirtCorpus.sessions(in: shared, corpus: "shared") }
        if let sourcePackage { sessions += LibvirtCorpus.sessions(in: sourcePackage, corpus: "libvirt source package") }
        return sessions
    }()

    /// The sessions in `folder`: every `NAME.replies`, by base name.
    static func sessions(in folder: String, corpus: String) -> [Session] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".replies") }
            .map { Session(folder: folder, name: String($0.dropLast(".replies".count)), corpus: corpus) }
            .sorted { $0.name < $1.name }
    }

    /// The first session of either corpus whose name starts with `prefix`.
    static func session(_ prefix: String) -> Session? { sessions.first { $0.name.hasPrefix(prefix) } }
}
