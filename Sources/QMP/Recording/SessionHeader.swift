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
    /// The host CPU (member `host_cpu`) is the caller's to add: the prober writes this machine's
    /// (`SessionHeader.forThisHost` in Prober), which this module does not read.
    public init(arch: String? = nil, accelerator: String? = nil, binary: String? = nil, arguments: [String]? = nil,
                source: String? = nil, recorded: Date = Date()) {
        var json = JSONObject()
        json["format"] = .string(Self.formatName)
        json["version"] = .int(Self.formatVersion)
        json["recorded"] = .string(ISO8601DateFormatter().string(from: recorded))
        if let arch { json["arch"] = .string(arch) }
        if let accelerator { json["accelerator"] = .string(accelerator) }
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
    /// Where the session came from when it was converted (e.g. a libvirt `.replies` file).
    public var source: String? { json["source"]?.stringValue }
}
