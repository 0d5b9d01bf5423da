import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A libvirt domain XML as far as the guest CPU's ABI goes: the domain type (accelerator), the machine type, the
/// vCPU count and topology, and the `<cpu>` element. The one reader of libvirt's XML in this project: the guest CPU
/// check, the guest ABI comparison and `compare --domain` each take their inputs from it.
///
/// A bare `<cpu>` document (no `<domain>`) is read too; it has no type, machine or vCPU count.
public struct LibvirtDomain: Sendable, Equatable {
    /// `<domain type=...>`: `kvm`, `qemu` (TCG), `hvf`, ...; nil for a bare `<cpu>`.
    package var type: String?
    /// `<os><type machine=...>`, when given.
    public var machine: String?
    /// `<os><type arch=...>`, when given.
    package var arch: String?
    /// `<vcpu>`: the maximum number of vCPUs, when given.
    package var maxVCPUs: Int?
    /// `<vcpu current=...>`: the vCPUs online at start, when given.
    package var currentVCPUs: Int?
    /// The `<cpu>` element, when there is one.
    public var cpu: LibvirtDomainCPU?

    /// The accelerator the domain type selects: `kvm` for `kvm`, `tcg` for `qemu`, the type itself otherwise.
    public var accelerator: String? {
        switch type {
        case nil: return nil
        case "qemu": return "tcg"
        case let other: return other
        }
    }

    /// The vCPU topology QEMU is started with, as libvirt builds `-smp`: `current` (or the maximum) vCPUs,
    /// `maxcpus` when it differs, and `<cpu><topology>`'s members; nil when the XML gives neither.
    public var topology: SMPTopology? {
        let given = cpu?.topology ?? [:]
        guard maxVCPUs != nil || !given.isEmpty else { return nil }
        var values = given
        let maximum = maxVCPUs ?? given.values.reduce(1, *)
        values["cpus"] = currentVCPUs ?? maximum
        if let current = currentVCPUs, current != maximum { values["maxcpus"] = maximum }
        return SMPTopology(values: values)
    }

    /// Parses a domain XML (or a bare `<cpu>` document).
    /// - Throws: ``ProberError/invalidInput(_:)`` naming `source` for XML that is not well-formed, a `<vcpu>` or
    ///   topology member that is not a positive number, a `<cpu>` of an unknown mode, a custom `<cpu>` without a
    ///   model, or a `<feature>` without a name or with an unknown policy.
    package init(xml: Data, source: String) throws {
        let reader = Reader()
        let parser = XMLParser(data: xml)
        parser.delegate = reader
        guard parser.parse() else {
            throw ProberError.invalidInput("\(source): not well-formed XML (\(parser.parserError.map { "\($0.localizedDescription)" } ?? "unknown error"), line \(parser.lineNumber))")
        }
        if let error = reader.error { throw ProberError.invalidInput("\(source): \(error)") }
        guard reader.sawRoot else { throw ProberError.invalidInput("\(source): no <domain> or <cpu> element") }
        type = reader.type
        machine = reader.machine
        arch = reader.arch
        maxVCPUs = try reader.vcpuText.map { try Self.positive($0.trimmingCharacters(in: .whitespacesAndNewlines), "<vcpu>", source) }
        currentVCPUs = try reader.currentVCPUs.map { try Self.positive($0, "<vcpu current>", source) }
        if reader.sawCPU {
            var topology: [String: Int] = [:]
            for (key, value) in reader.topology {
                topology[key] = try Self.positive(value, "<topology \(key)>", source)
            }
            let cpu = LibvirtDomainCPU(mode: reader.mode ?? "custom", check: reader.check,
                                       model: reader.model?.trimmingCharacters(in: .whitespacesAndNewlines),
                                       features: reader.features, topology: topology)
            guard LibvirtDomainCPU.modes.contains(cpu.mode) else {
                throw ProberError.invalidInput("\(source): <cpu mode='\(cpu.mode)'> is not supported (use \(LibvirtDomainCPU.modes.joined(separator: ", ")))")
            }
            if cpu.mode == "custom", cpu.model?.isEmpty ?? true {
                throw ProberError.invalidInput("\(source): <cpu mode='custom'> without a <model>")
            }
            self.cpu = cpu
        }
    }

    /// Reads `path`.
    /// - Throws: ``ProberError/invalidInput(_:)`` when it cannot be read or is not a usable domain XML.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProberError.invalidInput("\(path): cannot be read")
        }
        try self.init(xml: data, source: path)
    }

    private static func positive(_ text: String, _ what: String, _ source: String) throws -> Int {
        guard let value = Int(text), value > 0 else {
            throw ProberError.invalidInput("\(source): \(what) must be a positive number, not '\(text)'")
        }
        return value
    }

    /// Collects the members above from the document's events.
    private final class Reader: NSObject, XMLParserDelegate {
        var sawRoot = false
        var sawCPU = false
        var error: String?
        var type: String?
        var machine: String?
        var arch: String?
        var vcpuText: String?
        var currentVCPUs: String?
        var mode: String?
        var check: String?
        var model: String?
        var features: [LibvirtDomainCPU.FeatureRequest] = []
        var topology: [String: String] = [:]
        private var path: [String] = []
        private var cpuDepth: Int?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            path.append(name)
            if path.count == 1 {
                sawRoot = name == "domain" || name == "cpu"
                if name == "domain" { type = attributes["type"] }
            }
            if name == "cpu", !sawCPU, path.count <= 2, path.first == "domain" || path.count == 1 {
                sawCPU = true
                cpuDepth = path.count
                mode = attributes["mode"]
                check = attributes["check"]
                return
            }
            if path == ["domain", "vcpu"] {
                vcpuText = ""
                currentVCPUs = attributes["current"]
            } else if path == ["domain", "os", "type"] {
                machine = attributes["machine"]
                arch = attributes["arch"]
            }
            guard let cpuDepth, path.count == cpuDepth + 1 else { return }
            switch name {
            case "model": model = ""
            case "topology":
                for key in ["sockets", "dies", "clusters", "cores", "threads"] { topology[key] = attributes[key] }
            case "feature":
                guard let feature = attributes["name"], !feature.isEmpty else {
                    error = error ?? "<feature> without a name (line \(parser.lineNumber))"
                    return
                }
                let policy = attributes["policy"] ?? "require"
                guard LibvirtDomainCPU.policies.contains(policy) else {
                    error = error ?? "<feature name='\(feature)'>: unknown policy '\(policy)' (line \(parser.lineNumber))"
                    return
                }
                features.append(LibvirtDomainCPU.FeatureRequest(name: feature, policy: policy))
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if path == ["domain", "vcpu"] { vcpuText? += string }
            if let cpuDepth, path.count == cpuDepth + 1, path.last == "model" { model? += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if let depth = cpuDepth, path.count == depth { cpuDepth = nil }
            path.removeLast()
        }
    }
}
