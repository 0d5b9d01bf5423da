import QMP

/// QEMU's own verdict on two CPU models (`query-cpu-model-comparison`, implemented for s390x only): whether a
/// guest of one model can run where the other is offered, and which properties make the difference.
///
/// ```swift
/// let verdict = try await QEMUModelComparison.compare(client: client, a: CPUModelInfo(name: "z13"),
///                                                     b: CPUModelInfo(name: "z14"))
/// // verdict.result == .subset: a z13 guest runs on a z14
/// ```
///
/// To ask about two hosts, pass their host models as QEMU expanded them: `CPUModelInfo(hostModel:)` of each
/// probe report's host model (on s390x, the `-base` model and its changed features).
package enum QEMUModelComparison {
    /// QEMU's `CpuModelCompareResult`, always about model A relative to model B.
    package enum Result: String, Sendable, Equatable, CaseIterable {
        /// A and B are the same: each runs wherever the other runs.
        case identical
        /// A has everything B has, and more: B runs wherever A runs (not necessarily the other way).
        case superset
        /// B has everything A has, and more: A runs wherever B runs (not necessarily the other way).
        case subset
        /// Each has something the other lacks: neither is guaranteed to run where the other runs.
        case incompatible
    }

    /// QEMU's answer for one pair of models.
    package struct Verdict: Sendable, Equatable {
        /// Model A as asked.
        package var a: CPUModelInfo
        /// Model B as asked.
        package var b: CPUModelInfo
        /// A relative to B.
        package var result: Result
        /// The properties that differ (features on one side only; `type` when the CPU generations differ), in
        /// QEMU's order; empty when identical.
        package var responsibleProperties: [String]

        /// Reads the `return` value of `query-cpu-model-comparison` for `a` and `b`; nil when it is malformed.
        package init?(reply: JSON, a: CPUModelInfo, b: CPUModelInfo) {
            guard let text = reply["result"]?.stringValue, let result = Result(rawValue: text) else { return nil }
            self.a = a
            self.b = b
            self.result = result
            responsibleProperties = reply["responsible-properties"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }

        /// One line: `z13 is a subset of z14`.
        package var summary: String {
            switch result {
            case .identical: return "\(a) is identical to \(b)"
            case .superset: return "\(a) is a superset of \(b)"
            case .subset: return "\(a) is a subset of \(b)"
            case .incompatible: return "\(a) is incompatible with \(b)"
            }
        }

        /// What the verdict means for running guests, in plain words.
        package var meaning: String {
            switch result {
            case .identical: return "a guest of either model runs where the other is offered"
            case .superset: return "a guest of \(b) runs where \(a) is offered; not necessarily the other way"
            case .subset: return "a guest of \(a) runs where \(b) is offered; not necessarily the other way"
            case .incompatible: return "neither model's guests are guaranteed to run where the other is offered"
            }
        }

        /// The verdict as JSON: `a`, `b` (as `CpuModelInfo`), `result`, `responsible_properties`.
        package var json: JSON {
            [
                "a": a.json, "b": b.json, "result": .string(result.rawValue),
                "responsible_properties": .array(responsibleProperties.map(JSON.string)),
            ]
        }
    }

    /// Asks QEMU to compare `a` with `b`.
    /// - Throws: ``QEMUModelQueryError/unsupported(command:target:)`` when this QEMU has no comparison (any target
    ///   but s390x), ``QEMUModelQueryError/refused(command:errorClass:description:)`` when QEMU refuses a model,
    ///   ``QEMUModelQueryError/malformedReply(command:reply:)``, or ``ProberError/qmp(_:)`` when the connection fails.
    package static func compare(client: QMPClient, a: CPUModelInfo, b: CPUModelInfo) async throws -> Verdict {
        let command = "query-cpu-model-comparison"
        let reply = try await QEMUModelQueryError.execute(client, command, ["modela": a.json, "modelb": b.json])
        guard let verdict = Verdict(reply: reply, a: a, b: b) else {
            throw QEMUModelQueryError.malformedReply(command: command, reply: reply.serialized())
        }
        return verdict
    }
}
