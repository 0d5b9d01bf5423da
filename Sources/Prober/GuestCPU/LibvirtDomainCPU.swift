import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The `<cpu>` element of a libvirt domain XML, turned into a ``GuestCPUSpec``.
///
/// Modes: `custom` (`<model>` plus `<feature policy=...>`), `host-model` and `host-passthrough` (QEMU's `host`
/// under KVM, `max` under TCG). Policies: `require`/`force` turn a feature on, `disable`/`forbid` off;
/// `optional` turns it on when the host can (so it is never reported as dropped). libvirt's feature spellings
/// (`pclmuldq`, `lahf_lm`, ...) map to QEMU's.
public struct LibvirtDomainCPU: Sendable, Equatable {
    /// `custom`, `host-model` or `host-passthrough`.
    public var mode: String
    /// `none`, `partial` or `full`, when given.
    public var check: String?
    /// The `<model>` text, for custom mode.
    public var model: String?
    /// `(libvirt name, policy)` in document order.
    public var features: [FeatureRequest]

    /// One `<feature>` element.
    public struct FeatureRequest: Sendable, Equatable {
        /// libvirt's feature name.
        public var name: String
        /// `require`, `force`, `optional`, `disable`, `forbid`.
        public var policy: String
    }

    /// Parses the first `<cpu>` element of a domain XML document.
    /// - Throws: ``ProberError/invalidInput(_:)`` for XML that is malformed or has no usable `<cpu>`.
    public init(xml: Data, source: String) throws {
        let reader = Reader()
        let parser = XMLParser(data: xml)
        parser.delegate = reader
        guard parser.parse() else {
            throw ProberError.invalidInput("\(source): not well-formed XML (\(parser.parserError.map { "\($0)" } ?? "unknown error"))")
        }
        guard reader.sawCPU else { throw ProberError.invalidInput("\(source): no <cpu> element") }
        mode = reader.mode ?? "custom"
        check = reader.check
        model = reader.model?.trimmingCharacters(in: .whitespacesAndNewlines)
        features = reader.features
        guard ["custom", "host-model", "host-passthrough", "maximum"].contains(mode) else {
            throw ProberError.invalidInput("\(source): unsupported <cpu mode='\(mode)'>")
        }
        if mode == "custom", model?.isEmpty ?? true {
            throw ProberError.invalidInput("\(source): <cpu mode='custom'> without a <model>")
        }
        for feature in features where !["require", "force", "optional", "disable", "forbid"].contains(feature.policy) {
            throw ProberError.invalidInput("\(source): unknown feature policy '\(feature.policy)' for '\(feature.name)'")
        }
    }

    /// Reads `path`.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProberError.invalidInput("\(path): cannot be read")
        }
        try self.init(xml: data, source: path)
    }

    /// The QEMU spec for `accelerator`: the model (or `host`/`max`) and the features, QEMU's spellings.
    public func spec(accelerator: String) -> GuestCPUSpec {
        let name = mode == "custom" ? model! : (accelerator == "kvm" ? "host" : "max")
        var spec = GuestCPUSpec(model: name)
        for feature in features {
            let enabled = ["require", "force", "optional"].contains(feature.policy)
            spec.features.append((LibvirtFeatureNames.qemuName(forLibvirt: feature.name), enabled))
        }
        return spec
    }

    /// QEMU names of the features requested with `policy='optional'`.
    public var optionalFeatures: Set<String> {
        Set(features.filter { $0.policy == "optional" }.map { LibvirtFeatureNames.qemuName(forLibvirt: $0.name) })
    }

    private final class Reader: NSObject, XMLParserDelegate {
        var sawCPU = false
        var depth = 0
        var mode: String?
        var check: String?
        var model: String?
        var inModel = false
        var features: [FeatureRequest] = []

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == "cpu", !sawCPU {
                sawCPU = true
                depth = 1
                mode = attributes["mode"]
                check = attributes["check"]
                return
            }
            guard depth > 0 else { return }
            depth += 1
            if name == "model", depth == 2 {
                inModel = true
                model = ""
            } else if name == "feature", depth == 2, let feature = attributes["name"] {
                features.append(FeatureRequest(name: feature, policy: attributes["policy"] ?? "require"))
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inModel { model? += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard depth > 0 else { return }
            if name == "model" { inModel = false }
            depth -= 1
        }
    }
}
