/// The node labels KubeVirt's node-labeller (`pkg/virt-handler/node-labeller`) puts on a node, derived from a probe
/// result instead of libvirt's domain capabilities, and the labels that appear or disappear between two results (a
/// VM whose node selector names a vanished label can no longer be scheduled or migrated there).
///
/// The labeller reads `virsh domcapabilities` (KVM when `/dev/kvm` exists, else QEMU's TCG): every usable model not
/// in its obsolete list gets `cpu-model.node.kubevirt.io/MODEL` and `cpu-model-migration.node.kubevirt.io/MODEL`;
/// every feature the host model requires `cpu-feature.node.kubevirt.io/FEATURE` (libvirt's spelling); the host
/// model's name `host-model-cpu.node.kubevirt.io/MODEL` (and a migration label unless obsolete), its added features
/// `host-model-required-features.node.kubevirt.io/FEATURE`, its vendor `cpu-vendor.node.kubevirt.io/VENDOR`. Here
/// the host model's name and added features are libvirt's rule over this one host (``FleetBaseline``), and its
/// features those of QEMU's host model that libvirt names (on x86, those in ``LibvirtCPUMap``). Labels from other
/// sources (Hyper-V, TSC frequency, SEV, KSM, realtime) are not derived.
package enum KubeVirtNodeLabels {
    /// The labeller's default obsolete models (`DefaultObsoleteCPUModels`).
    package static let obsoleteModels: Set<String> = {
        let names = ["486", "pentium", "pentium2", "pentium3", "pentiumpro", "coreduo", "n270", "core2duo", "Conroe",
                     "athlon", "phenom", "qemu64", "qemu32", "kvm64", "kvm32"]
        return Set(names + names.map { $0 + "-v1" })
    }()

    /// The accelerator the labeller would see: `kvm` when the result has it, else `tcg`.
    static func accelerator(of host: HostResult) -> String? {
        host.accelerator("kvm") != nil ? "kvm" : host.accelerator("tcg") != nil ? "tcg" : host.acceleratorNames.first
    }

    /// The labels of one host, each with the value `"true"`.
    /// - Throws: ``ProberError/invalidInput(_:)`` when the result has no accelerator or no host model.
    package static func labels(of host: HostResult) throws -> [String: String] {
        guard let name = accelerator(of: host), let section = host.accelerator(name) else {
            throw ProberError.invalidInput("\(host.label) has no accelerator section")
        }
        let report = try FleetBaseline.compute(hosts: [host], accelerators: [name])
        var labels: [String: String] = [:]
        for model in section.models where model.usable == true && !FleetBaseline.notBaselines.contains(model.name)
            && !obsoleteModels.contains(model.name) {
            labels["cpu-model.node.kubevirt.io/\(model.name)"] = "true"
            labels["cpu-model-migration.node.kubevirt.io/\(model.name)"] = "true"
        }
        // The labeller's features come from libvirt: only those libvirt names (on x86, its CPU map).
        func libvirtName(_ feature: String) -> String? {
            guard LibvirtFeatureNames.isCPUFeature(feature), let name = LibvirtFeatureNames.libvirtName(forQEMU: feature) else { return nil }
            return host.report.arch == "x86_64" && !LibvirtCPUMap.x86Features.contains(name) ? nil : name
        }
        for feature in section.hostModel?.migratable ?? [] {
            if let libvirt = libvirtName(feature) { labels["cpu-feature.node.kubevirt.io/\(libvirt)"] = "true" }
        }
        let accelerator = report.accelerators[0]
        if let hostModel = accelerator.baseline {
            labels["host-model-cpu.node.kubevirt.io/\(hostModel.model)"] = "true"
            if obsoleteModels.contains(hostModel.model) {
                labels["node-labeller.kubevirt.io/obsolete-host-model"] = "true"
            } else {
                labels["cpu-model-migration.node.kubevirt.io/\(hostModel.model)"] = "true"
            }
            for feature in hostModel.plus {
                if let libvirt = libvirtName(feature) { labels["host-model-required-features.node.kubevirt.io/\(libvirt)"] = "true" }
            }
        }
        if let vendor = accelerator.vendor { labels["cpu-vendor.node.kubevirt.io/\(CPUVendor.libvirtName(vendor))"] = "true" }
        return labels
    }

    /// The labels every host has (what a VM may select on and still run anywhere).
    package static func shared(_ hosts: [HostResult]) throws -> [String: String] {
        var result: [String: String]?
        for host in hosts {
            let labels = try labels(of: host)
            result = result.map { $0.filter { labels[$0.key] == $0.value } } ?? labels
        }
        return result ?? [:]
    }

    /// The labels of `old` that `new` lacks, and those `new` adds.
    package static func drift(from old: HostResult, to new: HostResult) throws -> (disappeared: [String], appeared: [String]) {
        let before = try labels(of: old), after = try labels(of: new)
        return (before.keys.filter { after[$0] == nil }.sorted(), after.keys.filter { before[$0] == nil }.sorted())
    }

    /// The labels as a node patch (`kubectl patch node NAME --patch-file FILE`): `metadata.labels`, sorted.
    package static func yaml(_ labels: [String: String]) -> String {
        var lines = ["metadata:", "  labels:"]
        for key in labels.keys.sorted() { lines.append("    \(YAMLScalar.quoted(key)): \(YAMLScalar.quoted(labels[key]!))") }
        if labels.isEmpty { lines[1] = "  labels: {}" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The drift as YAML: `disappeared` and `appeared`, each a list of label keys.
    package static func driftYAML(_ drift: (disappeared: [String], appeared: [String]), from old: String, to new: String) -> String {
        var lines = ["# KubeVirt node labels from \(old) to \(new)"]
        for (title, keys) in [("disappeared", drift.disappeared), ("appeared", drift.appeared)] {
            lines.append(keys.isEmpty ? "\(title): []" : "\(title):")
            for key in keys { lines.append("  - \(YAMLScalar.quoted(key))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
