import Foundation
import Testing

/// Paths the tests read: the repository, its recorded sessions, and the shared libvirt corpus.
enum TestPaths {
    /// The repository root.
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `recorded-sessions/` in the repository.
    static var recordedSessions: String { repository + "/recorded-sessions" }

    /// `../shared/corpus/libvirt` beside the repository, or nil (with a visible note) when absent.
    static var libvirtCorpus: String? {
        let path = URL(fileURLWithPath: repository).deletingLastPathComponent().path + "/shared/corpus/libvirt"
        if FileManager.default.fileExists(atPath: path) { return path }
        print("note: \(path) is absent; the libvirt corpus tests are skipped")
        return nil
    }

    /// The files in `directory` ending with `suffix`, sorted.
    static func files(in directory: String, suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(suffix) }.sorted().map { directory + "/" + $0 }
    }

    /// The libvirt `.replies` files (empty when the corpus is absent).
    static var libvirtReplies: [String] { libvirtCorpus.map { files(in: $0, suffix: ".replies") } ?? [] }
}
