import ArgumentParser
import Foundation
import Prober
import QMP

/// `qmp-probe qemu-baseline`: QEMU's baseline of two CPU models (`query-cpu-model-baseline`, s390x).
struct QEMUBaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qemu-baseline",
        abstract: "Ask QEMU for the baseline of two CPU models (query-cpu-model-baseline; QEMU implements it for s390x only).",
        discussion: """
            Prints the model QEMU computes as the newest one both can run, with the features they share: on s390x \
            a static -base model and the features that differ from it (-cpu spelling). Models and the QEMU asked as \
            for qemu-compare. Exit status: 0 with a baseline, 2 on error (no QEMU, a target without baseline, a \
            model QEMU does not know, no common model).
            """
    )

    @Argument(help: "Model A, e.g. z13 or gen15a-base,vx=off.")
    var modelA: String

    @Argument(help: "Model B.")
    var modelB: String

    @OptionGroup var options: QEMUModelQueryOptions

    func run() async throws {
        let (a, b) = try options.models(modelA, modelB)
        let baseline = try await options.session().run { client in
            try await QEMUModelBaseline.baseline(client: client, a: a, b: b)
        }
        if options.json {
            print(baseline.json.serialized())
        } else {
            print("baseline of \(a) and \(b): \(baseline.model)")
        }
    }
}
