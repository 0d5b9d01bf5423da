import QMP

/// The CPU QEMU actually realized for a started (paused) guest, read over QMP.
public struct RealizedCPU: Sendable {
    /// The machine type it was started on (nil: QEMU's default).
    public var machine: String?
    /// The CPU object's QOM path.
    public var path: String
    /// Features on, canonical names.
    public var features: Set<String>
    /// The realized CPU's `unavailable-features` (QEMU 4.1+), verbatim.
    public var unavailable: [String]?
    /// How it was read: `qom-get` per feature property, or `feature-words`.
    public var method: String
    /// How many QMP commands reading it took.
    public var commands: Int

    /// Reads the first CPU of a started guest: `query-cpus-fast` for its path, `qom-list`, then one `qom-get`
    /// per boolean property, pipelined (the client keeps 8 in flight).
    /// - Parameters:
    ///   - featureNames: the feature names of this QEMU (static expansion's); other booleans are CPU options.
    /// - Throws: ``ProberError/qmp(_:)`` when QEMU does not answer as expected.
    public static func read(client: QMPClient, machine: String?, featureNames: Set<String>) async throws -> RealizedCPU {
        do {
            let cpus = try await client.execute("query-cpus-fast")
            guard let path = cpus.arrayValue?.first?["qom-path"]?.stringValue else {
                throw ProberError.qmp(.protocolError("query-cpus-fast returned no CPU"))
            }
            let properties = try await client.execute("qom-list", arguments: ["path": .string(path)])
            let booleans = (properties.arrayValue ?? []).filter { $0["type"]?.stringValue == "bool" }
                .compactMap { $0["name"]?.stringValue }
            let names = FeatureNames(canonical: featureNames)
            let wanted = booleans.filter { featureNames.contains(names.canonical($0)) }
            guard !wanted.isEmpty else {
                throw ProberError.qmp(.protocolError("the CPU at \(path) has no feature properties (QEMU before 2.?: feature-words is not read yet)"))
            }
            let values = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for name in wanted {
                    group.addTask {
                        let value = try await client.execute("qom-get", arguments: ["path": .string(path), "property": .string(name)])
                        return (name, value.boolValue ?? false)
                    }
                }
                var result: [(String, Bool)] = []
                result.reserveCapacity(wanted.count)
                for try await value in group { result.append(value) }
                return result
            }
            var features = Set<String>()
            for (name, on) in values where on { features.insert(names.canonical(name)) }
            var unavailable: [String]?
            var commands = 2 + wanted.count
            if properties.arrayValue?.contains(where: { $0["name"]?.stringValue == "unavailable-features" }) == true {
                let list = try await client.execute("qom-get", arguments: ["path": .string(path), "property": "unavailable-features"])
                unavailable = list.arrayValue?.compactMap(\.stringValue)
                commands += 1
            }
            return RealizedCPU(machine: machine, path: path, features: features, unavailable: unavailable,
                               method: "qom-get", commands: commands)
        } catch let error as QMPError {
            throw ProberError.qmp(error)
        }
    }
}
