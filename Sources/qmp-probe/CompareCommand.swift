import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe compare`: could a guest started on SRC run on DST (migration, or restoring a saved image)?
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Could a guest started on SRC run on DST? (live migration, or restoring a saved image)",
        discussion: """
            SRC and DST are each [LABEL=]PATH[,PATH...]: a probe result (probe --json), one of our recordings \
            (.jsonl) or a libvirt .replies file; several paths make one host (e.g. its kvm and tcg recordings). \
            For every CPU model of SRC, or the one given with --cpu or --domain, per accelerator (kvm with kvm, tcg \
            with tcg): the guest's CPU on SRC (the model's features under SRC's accelerator, minus what SRC filters) \
            must be something DST can give. Exit status: 0 when everything asked for is compatible, 1 when something \
            is blocked (listed), 2 on error.
            """
    )

    @Argument(help: "The source host's result: [LABEL=]PATH[,PATH...].")
    var src: String

    @Argument(help: "The destination host's result: [LABEL=]PATH[,PATH...].")
    var dst: String

    @Option(name: .long, help: "Check one CPU: MODEL[,+feat|-feat|feat=on|off...] (QEMU's -cpu syntax).")
    var cpu: String?

    @Option(name: .long, help: "Check the <cpu> of a libvirt domain XML file (<model>, <feature policy=...>).")
    var domain: String?

    @Option(name: .long, help: "Accelerators to compare: kvm, tcg or all (default: all that both have).")
    var accel: String = "all"

    @Flag(name: .long, help: "Print the JSON report (schemas/compare-report.schema.json) instead of the summary.")
    var json = false

    @Option(name: .long, help: "Also write a self-contained HTML matrix to FILE.")
    var html: String?

    func run() async throws {
        // Bad option values are errors like any other bad input: exit status 2.
        guard ["kvm", "tcg", "all"].contains(accel) else { throw CommandFailure("--accel must be kvm, tcg or all, not '\(accel)'") }
        let spec = try CPUSpecOption.read(cpu: cpu, domain: domain)
        let hosts = try await HostResultLoader.loadAll([src, dst])
        let report = try CompareReport.compute(source: hosts[0], destination: hosts[1],
                                               accelerators: accel == "all" ? nil : [accel], cpu: spec)
        if let html { try OutputFile.write(CompatibilityHTML.render(report), to: html) }
        print(json ? report.json.serialized() : CompareTextReport.render(report), terminator: json ? "\n" : "")
        if !report.compatible { throw ExitCode(1) }
    }
}

/// Writes command output files.
enum OutputFile {
    /// Writes `text` to `path`.
    /// - Throws: ``ProberError/environment(_:)`` when the file cannot be written.
    static func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw ProberError.environment("cannot write \(path)")
        }
    }
}
