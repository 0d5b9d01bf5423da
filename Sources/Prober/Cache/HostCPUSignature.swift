import Foundation
import QMP

/// The host CPU as `/proc/cpuinfo` describes it: vendor, family, model, stepping, microcode.
package struct HostCPUSignature: Sendable, Equatable, Hashable {
    /// Vendor (`GenuineIntel`, `AuthenticAMD`, ...; on other arches the implementer or machine).
    package var vendor: String?
    /// CPU family.
    package var family: Int?
    /// CPU model number.
    package var model: Int?
    /// Stepping.
    package var stepping: Int?
    /// Microcode revision.
    package var microcode: String?
    /// The model name string.
    package var modelName: String?

    /// A signature from its parts.
    package init(vendor: String? = nil, family: Int? = nil, model: Int? = nil, stepping: Int? = nil,
                microcode: String? = nil, modelName: String? = nil) {
        self.vendor = vendor
        self.family = family
        self.model = model
        self.stepping = stepping
        self.microcode = microcode
        self.modelName = modelName
    }

    /// Reads the first processor of `/proc/cpuinfo`; nil when it cannot be read.
    package static func current(cpuinfo path: String = "/proc/cpuinfo") -> HostCPUSignature? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return parse(cpuinfo: text)
    }

    /// Parses the first processor block of a `/proc/cpuinfo` text (x86, arm64 and s390x spellings).
    package static func parse(cpuinfo text: String) -> HostCPUSignature {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty, !fields.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        func int(_ key: String) -> Int? {
            guard let value = fields[key] else { return nil }
            return value.hasPrefix("0x") ? Int(value.dropFirst(2), radix: 16) : Int(value)
        }
        return HostCPUSignature(
            vendor: fields["vendor_id"] ?? fields["CPU implementer"] ?? fields["vendor"],
            family: int("cpu family") ?? int("CPU architecture"),
            model: int("model") ?? int("CPU part"),
            stepping: int("stepping") ?? int("CPU revision"),
            microcode: fields["microcode"],
            modelName: fields["model name"] ?? fields["machine"])
    }

    /// The signature as a JSON object (absent members left out).
    package var json: JSON {
        var object = JSONObject()
        if let vendor { object["vendor"] = .string(vendor) }
        if let family { object["family"] = .int(Int64(family)) }
        if let model { object["model"] = .int(Int64(model)) }
        if let stepping { object["stepping"] = .int(Int64(stepping)) }
        if let microcode { object["microcode"] = .string(microcode) }
        if let modelName { object["model_name"] = .string(modelName) }
        return .object(object)
    }

    /// A signature read back from its JSON object.
    package init(json: JSON) {
        self.init(vendor: json["vendor"]?.stringValue, family: json["family"]?.int64Value.map(Int.init),
                  model: json["model"]?.int64Value.map(Int.init), stepping: json["stepping"]?.int64Value.map(Int.init),
                  microcode: json["microcode"]?.stringValue, modelName: json["model_name"]?.stringValue)
    }
}

extension SessionHeader {
    /// A header for a recording made on this machine now: `SessionHeader(arch:accelerator:binary:arguments:)`
    /// with this host's CPU signature (`host_cpu`), which tells later readers (and the cache) which hardware answered.
    package static func forThisHost(arch: String? = nil, accelerator: String? = nil, binary: String? = nil,
                                   arguments: [String]? = nil) -> SessionHeader {
        var header = SessionHeader(arch: arch, accelerator: accelerator, binary: binary, arguments: arguments)
        header.hostCPU = HostCPUSignature.current()
        return header
    }

    /// The host CPU's signature (member `host_cpu`), when the recording has one.
    package var hostCPU: HostCPUSignature? {
        get { json["host_cpu"].map(HostCPUSignature.init(json:)) }
        set { json["host_cpu"] = newValue?.json }
    }
}
