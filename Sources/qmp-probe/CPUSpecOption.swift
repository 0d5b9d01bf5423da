import Foundation
import Prober

/// The CPU an operator gives with `--cpu` (QEMU's `-cpu` syntax) or `--domain` (a libvirt domain XML's `<cpu>`).
enum CPUSpecOption {
    /// The spec of `--cpu` or `--domain`, nil when neither is given.
    /// - Throws: ``ProberError/invalidInput(_:)`` when both are given, the file cannot be read or the spec is malformed.
    static func read(cpu: String?, domain: String?) throws -> CPUSpec? {
        if cpu != nil && domain != nil { throw ProberError.invalidInput("give at most one of --cpu and --domain") }
        if let cpu { return try CPUSpec.parse(cpu) }
        guard let domain else { return nil }
        guard let data = FileManager.default.contents(atPath: domain) else {
            throw ProberError.invalidInput("\(domain): cannot be read")
        }
        return try CPUSpec.parseDomainXML(data, source: domain)
    }
}
