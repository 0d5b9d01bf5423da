import QMP

extension RealizedCPU {
    /// Reads the CPU of a started, paused guest over `client`: the machine type QEMU resolved (`qom-get` of
    /// `/machine`'s `type`), the target, the topology (`query-hotpluggable-cpus`), the first CPU's path
    /// (`query-cpus-fast`), this QEMU's feature names (a static expansion of the model, else a full one), the machine type's compat
    /// properties where QEMU says them (`query-machines` with `compat-props`, 9.1+), then `qom-list` and one
    /// `qom-get` per feature (one spelling each) and identity property, pipelined, and `unavailable-features`.
    ///
    /// The same conversation reads a live guest and replays a recorded one.
    /// - Throws: ``ProberError/qmp(_:)`` when QEMU does not answer as expected.
    package static func read(client: QMPClient, guest: GuestConfiguration, binary: String?) async throws -> RealizedCPU {
        do {
            guard let version = client.greeting?.version else { throw QMPError.invalidState("not connected") }
            async let machineType = client.execute("qom-get", arguments: ["path": "/machine", "property": "type"])
            async let target = client.queryTarget()
            async let slots = client.answer("query-hotpluggable-cpus")  // not on every machine type (arm virt)
            async let cpus = client.execute("query-cpus-fast")
            async let expansion = client.expandCPUModel(guest.model)
            async let machines = client.answer("query-machines", arguments: ["compat-props": true])  // 9.1+
            guard let path = try await cpus.arrayValue?.first?["qom-path"]?.stringValue else {
                throw QMPError.protocolError("query-cpus-fast returned no CPU")
            }
            let listing = try await client.execute("qom-list", arguments: ["path": .string(path)])
            let arch = try await target.value
            let expanded: CPUModelExpansion
            var commands = 7  // the six above and qom-list
            switch try await expansion {
            case .value(let value): expanded = value
            case .unavailable(let error):
                // Targets that expand only fully (arm, riscv): the full expansion's booleans are the features.
                guard case .value(let full) = try await client.expandCPUModel(guest.model, type: "full") else { throw error }
                expanded = full
                commands += 1
            case .failure(let reason): throw QMPError.protocolError(reason)
            }
            let featureNames = Set(expanded.booleans.map(\.0))
            let names = FeatureNames(canonical: featureNames, arch: arch)

            // One spelling per feature: the canonical one when the CPU has it.
            var types: [String: String] = [:]
            for property in listing.arrayValue ?? [] {
                if let name = property["name"]?.stringValue, let type = property["type"]?.stringValue { types[name] = type }
            }
            var spelling: [String: String] = [:]
            for (name, type) in types where type == "bool" {
                let canonical = names.canonical(name)
                guard featureNames.contains(canonical) else { continue }
                if spelling[canonical] == nil || name == canonical { spelling[canonical] = name }
            }
            guard !spelling.isEmpty else {
                throw QMPError.protocolError("the CPU at \(path) has no feature properties")
            }
            let identity = identityProperties.filter { types[$0] != nil }
            let reads = spelling.map { ($0.key, $0.value) } + identity.map { ($0, $0) }
            let answers = try await withThrowingTaskGroup(of: (String, JSON).self) { group in
                for (key, property) in reads {
                    group.addTask {
                        (key, try await client.execute("qom-get", arguments: ["path": .string(path), "property": .string(property)]))
                    }
                }
                var result: [String: JSON] = [:]
                result.reserveCapacity(reads.count)
                for try await (key, value) in group { result[key] = value }
                return result
            }
            var values: [String: Bool] = [:]
            for canonical in spelling.keys { values[canonical] = answers[canonical]?.boolValue ?? false }
            var properties: [String: String] = [:]
            for name in identity {
                guard let value = answers[name] else { continue }
                properties[name] = value.stringValue ?? value.serialized()
            }
            commands += reads.count
            var unavailable: [String]?
            if types["unavailable-features"] != nil {
                let list = try await client.execute("qom-get", arguments: ["path": .string(path), "property": "unavailable-features"])
                unavailable = list.arrayValue?.compactMap(\.stringValue)
                commands += 1
            }
            let type = try await machineType.stringValue
            let resolved = type.map { $0.hasSuffix("-machine") ? String($0.dropLast("-machine".count)) : $0 }
            return RealizedCPU(
                version: version, binary: binary, arch: arch, accelerator: guest.accelerator, cpu: guest.cpu,
                machine: guest.machine, resolvedMachine: resolved, topology: guest.topology,
                threadsPerPackage: try await slots.value.flatMap(packageSize), vcpus: try await cpus.arrayValue?.count,
                values: values, properties: properties, unavailable: unavailable,
                compatProperties: compatProperties(try await machines.value, machine: resolved), path: path, commands: commands)
        } catch let error as QMPError {
            throw ProberError.qmp(error)
        }
    }

    /// Logical processors in package 0 (`socket-id` 0), counted over every slot, plugged or not; nil when the
    /// slots carry no socket (targets without one).
    static func packageSize(_ slots: JSON) -> Int? {
        var count = 0
        for slot in slots.arrayValue ?? [] {
            guard let socket = slot["props"]?["socket-id"]?.int64Value else { return nil }
            if socket == 0 { count += Int(slot["vcpus-count"]?.int64Value ?? 1) }
        }
        return count > 0 ? count : nil
    }

    /// The compat properties on CPU types (`*-cpu`) of `machine` in a `query-machines` reply with `compat-props`;
    /// nil when QEMU did not give them.
    static func compatProperties(_ reply: JSON?, machine: String?) -> [CompatProperty]? {
        guard let entries = reply?.arrayValue, let machine,
              let entry = entries.first(where: { $0["name"]?.stringValue == machine }),
              let list = entry["compat-props"]?.arrayValue else { return nil }
        return list.compactMap { item in
            guard let type = item["qom-type"]?.stringValue, type.hasSuffix("-cpu"),
                  let property = item["property"]?.stringValue, let value = item["value"]?.stringValue else { return nil }
            return CompatProperty(type: type, property: property, value: value)
        }
    }
}
