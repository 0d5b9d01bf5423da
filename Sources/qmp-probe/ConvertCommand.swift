import ArgumentParser
import Foundation
import QMP

/// `qmp-probe convert`: writes a libvirt `.replies` file (or any recording) in our JSON Lines format.
struct ConvertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a libvirt .replies file (or a recording) to qmp-probe's JSON Lines session format.",
        discussion: """
            A .replies file with a KVM and a TCG session gives two files: OUT-kvm.jsonl and OUT-tcg.jsonl \
            (OUT's extension kept); a single session gives OUT.
            """
    )

    @Argument(help: "The input: a libvirt .replies file or one of our recordings.")
    var input: String

    @Argument(help: "The output file.")
    var output: String

    func run() async throws {
        let sessions = try RecordingLoader.load(path: input)
        let url = URL(fileURLWithPath: output)
        for (index, session) in sessions.enumerated() {
            var path = output
            if sessions.count > 1 {
                let label = session.header.accelerator ?? "session\(index + 1)"
                let ext = url.pathExtension
                path = url.deletingPathExtension().path + "-\(label)" + (ext.isEmpty ? "" : ".\(ext)")
            }
            guard FileManager.default.createFile(atPath: path, contents: Data(session.jsonLines()),
                                                 attributes: [.posixPermissions: 0o644]) else {
                throw CommandFailure("cannot write \(path)")
            }
            print("\(path): \(session.exchanges.count) commands, QEMU \(session.qemuVersion?.description ?? "?"), \(session.header.accelerator ?? "?")")
        }
    }
}
