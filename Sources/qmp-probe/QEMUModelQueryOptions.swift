import ArgumentParser
import Foundation
import Prober
import QMP

/// The options `qemu-compare` and `qemu-baseline` share: which QEMU to ask, how long to wait, JSON output.
struct QEMUModelQueryOptions: ParsableArguments {
    @Option(name: .long, help: "The QEMU binary to start (default: qemu-system-s390x on PATH).")
    var qemu: String?

    @Option(name: .long, help: "The accelerator for the QEMU started: kvm or tcg (default: kvm when usable for its target, else tcg).")
    var accel: String?

    @Option(name: .long, help: "Ask a running monitor at this Unix socket instead of starting QEMU.")
    var socket: String?

    @Option(name: .long, help: "Seconds to wait for each QMP reply.")
    var timeout: Double = 30

    @Option(name: .long, help: "Record the QMP session to FILE (JSON Lines).")
    var record: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if socket != nil && (qemu != nil || accel != nil) {
            throw ValidationError("--socket asks a running QEMU: it does not go with --qemu or --accel")
        }
        if let accel, !["kvm", "tcg"].contains(accel) { throw ValidationError("--accel must be kvm or tcg") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// Both models, parsed (`NAME[,PROP=VALUE...]`).
    func models(_ a: String, _ b: String) throws -> (CPUModelInfo, CPUModelInfo) {
        do {
            return (try CPUModelInfo(parsing: a), try CPUModelInfo(parsing: b))
        } catch let error as ProberError {
            throw ProbeExit.fail(error.description)
        }
    }

    /// The session these options describe.
    func session() -> QEMUModelQueryRunner {
        var session = ModelQuerySession(source: socket.map { .monitor(.unix(path: $0)) } ?? .launch(binary: qemu, accelerator: accel))
        session.timeout = .milliseconds(Int64(timeout * 1000))
        session.logger = CLILogging.logger(trace: false)
        session.recordPath = record
        return QEMUModelQueryRunner(session: session)
    }
}

/// Runs one question in a ``ModelQuerySession`` and turns every failure into a message and exit status 2.
struct QEMUModelQueryRunner {
    /// The session asked.
    let session: ModelQuerySession

    /// Runs `body`; errors become `ProbeExit.fail`.
    func ask<R: Sendable>(_ body: @Sendable (QMPClient) async throws -> R) async throws -> R {
        do {
            return try await session.run(body)
        } catch let error as QEMUModelQueryError {
            throw ProbeExit.fail(error.description)
        } catch let error as ProberError {
            throw ProbeExit.fail(error.description)
        } catch let error as QMPError {
            throw ProbeExit.fail(error.description)
        }
    }
}
