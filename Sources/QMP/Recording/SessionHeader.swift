import Foundation

/// The first line of a recorded session: what was recorded, from which QEMU, on which host.
///
/// Stored as a JSON object so that readers tolerate members they do not know; the typed accessors read the
/// members this project writes.
public struct SessionHeader: Sendable, Equatable {
    /// The format name every recording of ours carries.
    public static let formatName = "qmp-probe-session"
    /// The format version this code writes and reads.
    public static let formatVersion: Int64 = 1

    /// The header's JSON object.
    public var json: JSONObject

    /// A header from its JSON object (as read from a file).
    public init(json: JSONObject) { self.json = json }

    /// A new header for a recording that starts now.
    public init(arch: String? = nil, accelerator: String? = nil, binary: String? = nil, arguments: [String]? = nil,
                hostCPU: HostCPUSignature? = HostCPUSignature.current(), source: String? = nil,
                recorded: Date = Date()) {
        var json = JSONObject()
        json["format"] = .string(Self.formatName)
        json["version"] = .int(Self.formatVersion)
        json["recorded"] = .string(ISO8601DateFormatter().string(from: recorded))
        if let arch { json["arch"] = .string(arch) }
        if let accelerator { json["accelerator"] = .string(accelerator) }
        if let hostCPU { json["host_cpu"] = hostCPU.json }
        if let binary { json["binary"] = .string(binary) }
        if let arguments { json["arguments"] = .array(arguments.map { .string($0) }) }
        if let source { json["source"] = .string(source) }
        self.json = json
    }

    /// The greeting's `QMP` value, once known.
    public var greeting: JSON? {
        get { json["greeting"] }
        set {
            json["greeting"] = newValue
            if let newValue, let greeting = try? QMPGreeting(newValue) {
                json["qemu_version"] = .string(greeting.version.description)
                json["qemu_package"] = .string(greeting.version.package)
            }
        }
    }

    /// QEMU's version, from the greeting.
    public var qemuVersion: QEMUVersion? { greeting.flatMap { try? QMPGreeting($0).version } }
    /// The QEMU target architecture (`x86_64`, `s390x`, ...), when known.
    public var arch: String? {
        get { json["arch"]?.stringValue }
        set { json["arch"] = newValue.map { .string($0) } }
    }
    /// The accelerator (`kvm`, `tcg`), when known.
    public var accelerator: String? {
        get { json["accelerator"]?.stringValue }
        set { json["accelerator"] = newValue.map { .string($0) } }
    }
    /// The QEMU binary, when the recorder started it.
    public var binary: String? { json["binary"]?.stringValue }
    /// QEMU's arguments, when the recorder started it.
    public var arguments: [String]? { json["arguments"]?.arrayValue?.compactMap(\.stringValue) }
    /// The host CPU's signature.
    public var hostCPU: HostCPUSignature? { json["host_cpu"].map(HostCPUSignature.init(json:)) }
    /// Where the session came from when it was converted (e.g. a libvirt `.replies` file).
    public var source: String? { json["source"]?.stringValue }
}

/// The host CPU as `/proc/cpuinfo` describes it: vendor, family, model, stepping, microcode.
public struct HostCPUSignature: Sendable, Equatable, Hashable {
    /// Vendor (`GenuineIntel`, `AuthenticAMD`, ...; on other arches the implementer or machine).
    public var vendor: String?
    /// CPU family.
    public var family: Int?
    /// CPU model number.
    public var model: Int?
    /// Stepping.
    public var stepping: Int?
    /// Microcode revision.
    public var microcode: String?
    /// The model name string.
    public var modelName: String?

    /// A signature from its parts.
    public init(vendor: String? = nil, family: Int? = nil, model: Int? = nil, stepping: Int? = nil,
                microcode: String? = nil, modelName: String? = nil) {
        self.vendor = vendor
        self.family = family
        self.model = model
        self.stepping = stepping
        self.microcode = microcode
        self.modelName = modelName
    }

    /// Reads the first processor of `/proc/cpuinfo`; nil when it cannot be read.
    public static func current(cpuinfo path: String = "/proc/cpuinfo") -> HostCPUSignature? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return parse(cpuinfo: text)
    }

    /// Parses the first processor block of a `/proc/cpuinfo` text (x86, arm64 and s390x spellings).
    public static func parse(cpuinfo text: String) -> HostCPUSignature {
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
    public var json: JSON {
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
    public init(json: JSON) {
        self.init(vendor: json["vendor"]?.stringValue, family: json["family"]?.int64Value.map(Int.init),
                  model: json["model"]?.int64Value.map(Int.init), stepping: json["stepping"]?.int64Value.map(Int.init),
                  microcode: json["microcode"]?.stringValue, modelName: json["model_name"]?.stringValue)
    }
}
