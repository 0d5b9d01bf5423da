import ArgumentParser
import Foundation
import Prober
import QMP

/// The options `qemu-compare` and `qemu-baseline` share: which QEMU to ask (``SourceOptions``), its accelerator, the
/// recording, JSON output.
struct QEMUModelQueryOptions: ParsableArguments {
    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "The accelerator for the QEMU started: kvm or tcg (default: kvm when usable for its target, else tcg).")
    var accel: String?

    @Option(name: .long, help: "Record the QMP session to FILE (JSON Lines).")
    var record: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if accel != nil, source.talksToRunningQEMUOrRecording {
            throw ValidationError("--accel chooses the accelerator of the QEMU started here: it does not go with --socket, --connect or --replay")
        }
        if let accel, !["kvm", "tcg"].contains(accel) { throw ValidationError("--accel must be kvm or tcg") }
    }

    /// Both models, parsed (`NAME[,PROP=VALUE...]`).
    /// - Throws: ``ProberError/invalidInput(_:)`` for a malformed model.
    func models(_ a: String, _ b: String) throws -> (CPUModelInfo, CPUModelInfo) {
        (try CPUModelInfo(parsing: a), try CPUModelInfo(parsing: b))
    }

    /// The session these options describe.
    func session() -> ModelQuerySession {
        let querySource: ModelQuerySession.Source
        switch source.source {
        case .launch(let binary): querySource = .launch(binary: binary, accelerator: accel)
        case .monitor(let endpoint): querySource = .monitor(endpoint)
        case .replay(let path, let mode): querySource = .replay(path: path, mode: mode)
        }
        var session = ModelQuerySession(source: querySource)
        session.timeout = source.timeoutDuration
        session.logger = CLILogging.logger(trace: false)
        session.recordPath = record
        return session
    }
}
