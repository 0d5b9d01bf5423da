import QMP

/// QEMU's baseline of two CPU models (`query-cpu-model-baseline`, implemented for s390x only): the newest model
/// that both can run, with the features they share (what a guest needs to be migratable between the two).
package enum QEMUModelBaseline {
    /// QEMU's baseline for one pair of models.
    package struct Baseline: Sendable, Equatable {
        /// Model A as asked.
        package var a: CPUModelInfo
        /// Model B as asked.
        package var b: CPUModelInfo
        /// The baseline as QEMU returned it: on s390x a static `-base` model and the features that differ from it.
        package var model: CPUModelInfo

        /// The baseline as JSON: `a`, `b`, `model` (each a `CpuModelInfo`).
        package var json: JSON { ["a": a.json, "b": b.json, "model": model.json] }
    }

    /// Asks QEMU for the baseline of `a` and `b`.
    /// - Throws: ``QEMUModelQueryError/unsupported(command:target:)`` when this QEMU has no baseline (any target but
    ///   s390x), ``QEMUModelQueryError/refused(command:errorClass:description:)`` when QEMU refuses a model or finds
    ///   no common model, ``QEMUModelQueryError/malformedReply(command:reply:)``, or ``ProberError/qmp(_:)``.
    package static func baseline(client: QMPClient, a: CPUModelInfo, b: CPUModelInfo) async throws -> Baseline {
        let command = "query-cpu-model-baseline"
        let reply = try await QEMUModelQueryError.execute(client, command, ["modela": a.json, "modelb": b.json])
        guard let model = reply["model"].flatMap(CPUModelInfo.init(json:)) else {
            throw QEMUModelQueryError.malformedReply(command: command, reply: reply.serialized())
        }
        return Baseline(a: a, b: b, model: model)
    }
}
