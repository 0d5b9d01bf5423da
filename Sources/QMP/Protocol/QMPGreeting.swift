/// The greeting QEMU sends when a client connects: its version and capabilities.
public struct QMPGreeting: Sendable, Equatable {
    /// QEMU's version.
    public var version: QEMUVersion
    /// The capabilities offered, e.g. `["oob"]`.
    public var capabilities: [String]
    /// The greeting's JSON as received (the `QMP` member's value).
    public var json: JSON

    /// Parses the value of the greeting's `QMP` member.
    /// - Throws: ``QMPError/protocolError(_:)`` when the greeting lacks a version.
    public init(_ json: JSON) throws {
        guard let qemu = json["version"]?["qemu"],
              let major = qemu["major"]?.int64Value, let minor = qemu["minor"]?.int64Value,
              let micro = qemu["micro"]?.int64Value
        else {
            throw QMPError.protocolError("greeting without a QEMU version: \(json.serialized().prefix(200))")
        }
        self.version = QEMUVersion(major: Int(major), minor: Int(minor), micro: Int(micro),
                                   package: json["version"]?["package"]?.stringValue ?? "")
        self.capabilities = json["capabilities"]?.arrayValue?.compactMap(\.stringValue) ?? []
        self.json = json
    }
}

/// A QEMU version as QMP reports it.
public struct QEMUVersion: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Major version.
    public var major: Int
    /// Minor version.
    public var minor: Int
    /// Micro version (90 and above mark a development snapshot of the next minor).
    public var micro: Int
    /// The distribution's package string, e.g. `Debian 1:7.2+dfsg-7+deb12u18`.
    public var package: String

    /// A version from its parts.
    public init(major: Int, minor: Int, micro: Int, package: String = "") {
        self.major = major
        self.minor = minor
        self.micro = micro
        self.package = package
    }

    /// Whether this version is at least `major.minor.micro`.
    public func isAtLeast(_ major: Int, _ minor: Int, _ micro: Int = 0) -> Bool {
        (self.major, self.minor, self.micro) >= (major, minor, micro)
    }

    public static func < (lhs: QEMUVersion, rhs: QEMUVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.micro) < (rhs.major, rhs.minor, rhs.micro)
    }

    /// `major.minor.micro`.
    public var description: String { "\(major).\(minor).\(micro)" }
}
