import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe qemu-compare`: QEMU's own verdict on two CPU models (`query-cpu-model-comparison`, s390x).
struct QEMUCompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qemu-compare",
        abstract: "Ask QEMU to compare two CPU models (query-cpu-model-comparison; QEMU implements it for s390x only).",
        discussion: """
            Prints QEMU's verdict on MODEL_A relative to MODEL_B (identical, superset, subset, incompatible) and the \
            properties responsible. A model is written as for -cpu: NAME[,PROP=on|off|VALUE...]. Starts \
            qemu-system-s390x from PATH (or --qemu) with -machine none, KVM when it can run here, else TCG; or asks \
            a running monitor (--socket, --connect) or a recording of such a session (--replay). Exit status: 0 with a verdict (whatever it is), 2 on error (no QEMU, a \
            target without comparison, a model QEMU does not know).
            """
    )

    @Argument(help: "Model A, e.g. z13 or gen15a-base,vx=off.")
    var modelA: String

    @Argument(help: "Model B.")
    var modelB: String

    @OptionGroup var options: QEMUModelQueryOptions

    func run() async throws {
        let (a, b) = try options.models(modelA, modelB)
        let verdict = try await options.session().run { client in
            try await QEMUModelComparison.compare(client: client, a: a, b: b)
        }
        if options.json {
            print(verdict.json.serialized())
            return
        }
        print(verdict.summary)
        print("meaning: \(verdict.meaning)")
        if !verdict.responsibleProperties.isEmpty {
            print("responsible properties: \(verdict.responsibleProperties.joined(separator: " "))")
        }
    }
}
