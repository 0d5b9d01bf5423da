import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe baseline`: the CPU that every host of a fleet can run.
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "The CPU models usable on every host, what blocks the others, and the fleet's CPU.",
        discussion: """
            Each RESULT is [LABEL=]PATH[,PATH...]: a probe result (probe --json), one of our recordings (.jsonl) or a \
            libvirt .replies file. Per accelerator: the models usable on every host, for each model the hosts that \
            block it and why, the features every host model shares, and a baseline CPU checked on every host: by \
            default chosen as libvirt's hypervisor-cpu-baseline does (a model of the hosts' vendor closest to the \
            shared features, features switched off where needed), or with --rule usable-as-is the model usable as it \
            is with the most shared features. --cpu or --domain checks an operator's CPU the same way. --format \
            prints only the CPU in one platform's configuration. Exit status: 0 when every --model is usable \
            everywhere (else: when the CPU runs on every host and, with --format, the platform can express it; with \
            --label-drift: when no label appears or disappears), 1 otherwise, 2 on error.
            """
    )

    @Argument(help: "The hosts' results: [LABEL=]PATH[,PATH...] each, or a directory of them (its *.json, *.jsonl, *.replies).")
    var results: [String]

    @Option(name: .long, help: "Only these models (repeatable).")
    var model: [String] = []

    @Option(name: .long, help: "Accelerators: kvm, tcg or all (default: all that every host has).")
    var accel: String = "all"

    @Option(name: .long, help: "How the base model is chosen: libvirt (hypervisor-cpu-baseline's rule, the default) or usable-as-is.")
    var rule: String = BaselineReport.ModelRule.libvirt.rawValue

    @Option(name: .long, help: "Check this CPU on every host: MODEL[,+feat|-feat|feat=on|off...] (QEMU's -cpu syntax).")
    var cpu: String?

    @Option(name: .long, help: "Check the <cpu> of this libvirt domain XML on every host.")
    var domain: String?

    @Option(name: .long, help: "Print only the CPU as this platform's configuration: \(PlatformFormat.names) (kvm when several accelerators).")
    var format: String?

    @Flag(name: .long, help: "With two results (before and after, e.g. a QEMU upgrade): the KubeVirt node labels that disappear and appear.")
    var labelDrift = false

    @Flag(name: .long, help: "Print the JSON report (schemas/baseline-report.schema.json) instead of the summary.")
    var json = false

    @Option(name: .long, help: "Also write a self-contained HTML matrix (models by hosts) to FILE.")
    var html: String?

    func run() async throws {
        // Bad option values are errors like any other bad input: exit status 2.
        guard !results.isEmpty else { throw CommandFailure("give at least one host result") }
        guard ["kvm", "tcg", "all"].contains(accel) else { throw CommandFailure("--accel must be kvm, tcg or all, not '\(accel)'") }
        guard let rule = BaselineReport.ModelRule(rawValue: rule) else {
            throw CommandFailure("--rule must be libvirt or usable-as-is, not '\(self.rule)'")
        }
        let platform = try format.map { name in
            guard let format = PlatformFormat(rawValue: name) else { throw CommandFailure("--format must be one of \(PlatformFormat.names), not '\(name)'") }
            return format
        }
        if labelDrift && (results.count != 2 || platform != nil || json) {
            throw CommandFailure("--label-drift takes exactly two results (before and after) and no --format or --json")
        }
        let spec = try CPUSpecOption.read(cpu: cpu, domain: domain)
        let paths = try HostResultLoader.expandDirectories(results)
        guard !paths.isEmpty else { throw ProberError.invalidInput("no host results in \(results.joined(separator: ", ")) (an empty fleet)") }
        let hosts = try await HostResultLoader.loadAll(paths)
        let report = try FleetBaseline.compute(hosts: hosts, accelerators: accel == "all" ? nil : [accel],
                                               models: model.isEmpty ? nil : model, rule: rule, cpu: spec)
        if labelDrift {
            let drift = try KubeVirtNodeLabels.drift(from: hosts[0], to: hosts[1])
            print(KubeVirtNodeLabels.driftYAML(drift, from: hosts[0].label, to: hosts[1].label), terminator: "")
            if !drift.appeared.isEmpty || !drift.disappeared.isEmpty { throw ExitCode(1) }
            return
        }
        if let html { try OutputFile.write(CompatibilityHTML.render(report), to: html) }
        if let platform {
            try PlatformOutputOption.print(platform, report: report, hosts: hosts)
            return
        }
        print(json ? report.json.serialized() : BaselineTextReport.render(report), terminator: json ? "\n" : "")
        if !report.satisfied { throw ExitCode(1) }
    }
}
