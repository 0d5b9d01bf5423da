import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe baseline`: the CPU that every host of a fleet can run.
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "The CPU models usable on every host, what blocks the others, and the largest shared CPU.",
        discussion: """
            Each RESULT is [LABEL=]PATH[,PATH...]: a probe result (probe --json), one of our recordings (.jsonl) or a \
            libvirt .replies file. Per accelerator: the models usable on every host, for each model the hosts that \
            block it and why, the features every host model shares, and a baseline CPU: the usable-everywhere model \
            with the most shared features plus the other shared features, as a -cpu string and as libvirt XML. \
            Exit status: 0 when every --model is usable everywhere (without --model: when each accelerator has a \
            baseline model), 1 otherwise, 2 on error.
            """
    )

    @Argument(help: "The hosts' results: [LABEL=]PATH[,PATH...] each, or a directory of them (its *.json, *.jsonl, *.replies).")
    var results: [String]

    @Option(name: .long, help: "Only these models (repeatable).")
    var model: [String] = []

    @Option(name: .long, help: "Accelerators: kvm, tcg or all (default: all that every host has).")
    var accel: String = "all"

    @Flag(name: .long, help: "Print the JSON report (schemas/baseline-report.schema.json) instead of the summary.")
    var json = false

    @Option(name: .long, help: "Also write a self-contained HTML matrix (models by hosts) to FILE.")
    var html: String?

    func run() async throws {
        // Bad option values are errors like any other bad input: exit status 2.
        guard !results.isEmpty else { throw ProbeExit.fail("give at least one host result") }
        guard ["kvm", "tcg", "all"].contains(accel) else { throw ProbeExit.fail("--accel must be kvm, tcg or all, not '\(accel)'") }
        let report: BaselineReport
        do {
            let hosts = try await HostResultLoader.loadAll(try HostResultLoader.expandDirectories(results))
            report = try FleetBaseline.compute(hosts: hosts, accelerators: accel == "all" ? nil : [accel],
                                               models: model.isEmpty ? nil : model)
            if let html { try OutputFile.write(CompatibilityHTML.render(report), to: html) }
        } catch let error as ProberError {
            throw ProbeExit.fail(error.description)
        } catch let error as QMPError {
            throw ProbeExit.fail(error.description)
        }
        print(json ? report.json.serialized() : BaselineTextReport.render(report), terminator: json ? "\n" : "")
        if !report.satisfied { throw ExitCode(1) }
    }
}
