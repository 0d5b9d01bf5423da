import QMP

/// What QEMU answered to a query it may refuse.
public enum CPUQueryAnswer<Value: Sendable>: Sendable {
    /// The answer.
    case value(Value)
    /// QEMU refused the command (`commandFailed`), or a replayed recording does not have it (`notRecorded`).
    case unavailable(QMPError)
    /// QEMU answered something this code cannot read.
    case failure(String)

    /// The answer, when there is one.
    public var value: Value? {
        if case .value(let value) = self { return value }
        return nil
    }

    /// Why there is no answer (`ok` when there is one), for notes.
    public var why: String {
        switch self {
        case .value: return "ok"
        case .unavailable(let error): return error.description
        case .failure(let reason): return reason
        }
    }
}

/// The typed CPU queries: the one builder of each request, and the one place that tells a refusal (an answer) from a
/// lost connection (an error).
extension QMPClient {
    /// Runs `name`: QEMU's refusal or a missing recording is ``CPUQueryAnswer/unavailable(_:)``.
    /// - Throws: ``ProberError/qmp(_:)`` for anything else (a lost connection, a timeout).
    public func answer(_ name: String, arguments: JSONObject? = nil) async throws -> CPUQueryAnswer<JSON> {
        do {
            return .value(try await execute(name, arguments: arguments))
        } catch let error as QMPError {
            switch error {
            case .commandFailed, .notRecorded: return .unavailable(error)
            default: throw ProberError.qmp(error)
            }
        }
    }

    /// `query-cpu-definitions`.
    /// - Throws: ``ProberError/qmp(_:)`` when the connection fails.
    public func cpuDefinitions() async throws -> CPUQueryAnswer<[CPUDefinition]> {
        switch try await answer("query-cpu-definitions") {
        case .value(let reply):
            guard let list = reply.arrayValue else { return .failure("query-cpu-definitions did not return a list") }
            return .value(list.compactMap(CPUDefinition.init))
        case .unavailable(let error): return .unavailable(error)
        case .failure(let reason): return .failure(reason)
        }
    }

    /// `query-cpu-model-expansion` of `model` (with `props`), `type` `static` or `full`.
    /// - Throws: ``ProberError/qmp(_:)`` when the connection fails.
    public func expandCPUModel(_ model: String, type: String = "static", props: JSONObject? = nil) async throws
        -> CPUQueryAnswer<CPUModelExpansion> {
        var object: JSONObject = ["name": .string(model)]
        if let props { object["props"] = .object(props) }
        switch try await answer("query-cpu-model-expansion", arguments: ["type": .string(type), "model": .object(object)]) {
        case .value(let reply):
            guard let expansion = CPUModelExpansion(reply) else { return .failure("malformed query-cpu-model-expansion reply") }
            return .value(expansion)
        case .unavailable(let error): return .unavailable(error)
        case .failure(let reason): return .failure(reason)
        }
    }

    /// `query-target`'s `arch`.
    /// - Throws: ``ProberError/qmp(_:)`` when the connection fails.
    public func queryTarget() async throws -> CPUQueryAnswer<String> {
        switch try await answer("query-target") {
        case .value(let reply):
            guard let arch = reply["arch"]?.stringValue else { return .failure("query-target gave no arch") }
            return .value(arch)
        case .unavailable(let error): return .unavailable(error)
        case .failure(let reason): return .failure(reason)
        }
    }
}
