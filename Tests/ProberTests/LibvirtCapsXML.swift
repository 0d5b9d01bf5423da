import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The CPU parts of one of libvirt's `caps_VERSION.ARCH.xml` files (`tests/qemucapabilitiesdata/`):
/// the host model per accelerator (`<hostCPU>`) and the CPU models with their blockers (`<cpu>`), in file order.
struct LibvirtCapsXML {
    /// One `<property>` of a `<hostCPU>`.
    struct Property: Equatable, CustomStringConvertible {
        var name: String
        /// `boolean`, `number` or `string`.
        var type: String
        var value: String
        /// `yes`, `no`, or nil when the attribute is absent.
        var migratable: String?

        var description: String {
            "\(name) \(type)=\(value.debugDescription)" + (migratable.map { " migratable=\($0)" } ?? "")
        }
    }

    /// One `<hostCPU type=... model=... migratability=...>`.
    struct HostCPU {
        var type: String
        var model: String
        var migratability: String?
        var properties: [Property] = []
        /// The names in `<deprecatedFeatures>` (QEMU's `deprecated-props`), in file order.
        var deprecatedFeatures: [String] = []
    }

    /// One `<cpu type=... name=... typename=... usable=...>` with its `<blocker>` children.
    struct CPU {
        var type: String
        var name: String
        var typename: String?
        /// `yes`, `no`, or nil when the attribute is absent.
        var usable: String?
        /// `yes`, or nil when the attribute is absent.
        var deprecated: String?
        var blockers: [String] = []
    }

    var hostCPUs: [HostCPU] = []
    var cpus: [CPU] = []

    /// The accelerators in the order the file first mentions them.
    var accelerators: [String] {
        var seen: [String] = []
        for type in hostCPUs.map(\.type) + cpus.map(\.type) where !seen.contains(type) { seen.append(type) }
        return seen
    }

    /// Parses `path`.
    static func load(path: String) throws -> LibvirtCapsXML {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ParseError(description: "\(path): cannot be read")
        }
        let parser = XMLParser(data: data)
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else {
            throw ParseError(description: "\(path):\(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "not valid XML")")
        }
        if let problem = delegate.problem { throw ParseError(description: "\(path): \(problem)") }
        return delegate.result
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var result = LibvirtCapsXML()
        var problem: String?
        private var stack: [String] = []

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            let parent = stack.last
            stack.append(element)
            func require(_ name: String) -> String {
                if let value = attributes[name] { return value }
                if problem == nil { problem = "line \(parser.lineNumber): <\(element)> without \(name)=" }
                return ""
            }
            switch (parent, element) {
            case ("qemuCaps", "hostCPU"):
                result.hostCPUs.append(HostCPU(type: require("type"), model: require("model"),
                                               migratability: attributes["migratability"]))
            case ("hostCPU", "property"):
                guard !result.hostCPUs.isEmpty else { return }
                result.hostCPUs[result.hostCPUs.count - 1].properties.append(
                    Property(name: require("name"), type: require("type"), value: require("value"),
                             migratable: attributes["migratable"]))
            case ("deprecatedFeatures", "property"):
                guard !result.hostCPUs.isEmpty else { return }
                result.hostCPUs[result.hostCPUs.count - 1].deprecatedFeatures.append(require("name"))
            case ("qemuCaps", "cpu"):
                result.cpus.append(CPU(type: require("type"), name: require("name"), typename: attributes["typename"],
                                       usable: attributes["usable"], deprecated: attributes["deprecated"]))
            case ("cpu", "blocker"):
                guard !result.cpus.isEmpty else { return }
                result.cpus[result.cpus.count - 1].blockers.append(require("name"))
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }
    }
}
